import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlainEvaluator } from './plain-evaluator.js';
import { parsePolicies, type LoadProblem } from './policy-set.js';
import { SlicedEvaluator } from './sliced-evaluator.js';
import { recordContext, type CedarEntity, type EvalRequest, type EntityRef } from './types.js';
import type { CedarValueJson } from './wasm.js';

/*
 * Differential test: on random policy sets and random requests, the sliced evaluator must
 * return exactly what plain Cedar returns for the whole set — the decision, the determining
 * policies and the policies that errored. The generators deliberately produce policies that
 * error (optional attributes read without `has`, missing context keys, type errors), entity
 * hierarchies with nested groups, entity references in attributes and context, whole-context
 * uses, and scopes of every shape, because those are where slicing and pruning could go wrong.
 */

const USERS = ['u0', 'u1', 'u2', 'u3'];
const GROUPS = ['g0', 'g1', 'g2', 'g3', 'g4'];
const SERVERS = ['s0', 's1', 's2'];
const TOOLS = SERVERS.flatMap((s) => ['t0', 't1', 't2'].map((t) => `${s}__${t}`));
const ACTIONS = ['call', 'read', 'get', 'list'];
const CLIENTS = ['c0', 'c1'];

const ref = (type: string, id: string): EntityRef => ({ type, id });
const lit = (type: string, id: string) => `${type}::"${id}"`;

const pick = <T>(items: readonly T[]) => fc.constantFrom(...items);
const small = fc.integer({ min: -2, max: 12 });

const principalScope = fc.oneof(
  fc.constant('principal'),
  pick(USERS).map((u) => `principal == ${lit('User', u)}`),
  pick(GROUPS).map((g) => `principal in ${lit('Group', g)}`),
  pick(USERS).map((u) => `principal in ${lit('User', u)}`),
  fc.constant('principal is User'),
  pick(GROUPS).map((g) => `principal is User in ${lit('Group', g)}`),
  fc.constant('principal is Group'),
);
const actionScope = fc.oneof(
  fc.constant('action'),
  pick(ACTIONS).map((a) => `action == Action::"${a}"`),
  fc.subarray(ACTIONS, { minLength: 1 }).map((as) => `action in [${as.map((a) => `Action::"${a}"`).join(', ')}]`),
);
const resourceScope = fc.oneof(
  fc.constant('resource'),
  pick(TOOLS).map((t) => `resource == ${lit('Tool', t)}`),
  pick(SERVERS).map((s) => `resource in ${lit('Server', s)}`),
  pick(SERVERS).map((s) => `resource == ${lit('Server', s)}`),
  fc.constant('resource is Tool'),
  pick(SERVERS).map((s) => `resource is Tool in ${lit('Server', s)}`),
);

const atom: fc.Arbitrary<string> = fc.oneof(
  pick(['"eng"', '"ops"']).map((v) => `principal.dept == ${v}`),
  fc.constant('principal has dept'),
  small.map((n) => `principal.level > ${n}`),
  fc.constant('principal has level && principal.level <= 5'),
  fc.constant('principal.tags.contains("a")'),
  fc.constant('resource.destructive'),
  fc.constant('resource has readOnly && resource.readOnly'),
  small.map((n) => `resource has limit && resource.limit < ${n}`),
  pick(['"public"', '"internal"', '"sensitive"']).map((c) => `resource.classification == ${c}`),
  small.map((n) => `context.hour >= ${n}`),
  small.map((n) => `context.args.limit > ${n}`),
  small.map((n) => `context.args has limit && context.args.limit <= ${n}`),
  fc.constant('context.args has path && context.args.path like "/srv/*"'),
  fc.constant('context.args.path like "*secret*"'),
  fc.constant('context.mfa.verified'),
  small.map((n) => `context.mfa has ageSeconds && context.mfa.ageSeconds < ${n * 60}`),
  pick(GROUPS).map((g) => `principal in ${lit('Group', g)}`),
  pick(SERVERS).map((s) => `resource in ${lit('Server', s)}`),
  pick(CLIENTS).map((c) => `context.client == ${lit('Client', c)}`),
  fc.constant('context.client.trusted'),
  fc.constant('context has client && context.client has trusted && context.client.trusted'),
  fc.constant('context.ip.isInRange(ip("10.0.0.0/8"))'),
  fc.constant('context has ip && context.ip.isLoopback()'),
  pick(GROUPS).map((g) => `${lit('Group', g)}.owner == principal`),
  pick(GROUPS).map((g) => `${lit('Group', g)} has owner && ${lit('Group', g)}.owner in ${lit('Group', 'g0')}`),
  pick(USERS).map((u) => `${lit('User', u)} in ${lit('Group', 'g1')}`),
  pick(USERS).map((u) => `${lit('User', u)}.dept == "eng"`),
  fc.constant('principal in resource'),
  fc.constant('context.flag'),
  fc.constant('context has flag'),
  fc.constant('context == {}'),
  fc.constant('context.args == {"limit": 3}'),
  fc.constant('["/srv/a", "/srv/b"].contains(context.args.path)'),
  fc.constant('context.scopes.containsAny(["mcp", "admin"])'),
  fc.constant('principal.manager.dept == "ops"'),
  fc.constant('principal has manager && principal.manager in principal'),
  fc.constant('true'),
  fc.constant('false'),
  fc.constant('1 + "x" == 2'),
);

const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a} && ${b})`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a} || ${b})`),
    tie('e').map((a) => `!(${a})`),
    fc.tuple(atom, tie('e'), tie('e')).map(([c, a, b]) => `(if ${c} then ${a} else ${b})`),
  ),
})).e;

const policyText = fc
  .record({
    effect: fc.constantFrom('permit', 'permit', 'forbid'),
    principal: principalScope,
    action: actionScope,
    resource: resourceScope,
    conditions: fc.array(fc.tuple(fc.constantFrom('when', 'unless'), expr), { maxLength: 2 }),
  })
  .map(
    ({ effect, principal, action, resource, conditions }) =>
      `${effect}(${principal}, ${action}, ${resource})${conditions.map(([k, e]) => ` ${k} { ${e} }`).join('')};`,
  );

const policySetText = fc.array(policyText, { minLength: 0, maxLength: 25 }).map((ps) => ps.join('\n'));

const cedarValueFor = {
  dept: pick(['eng', 'ops']),
  level: small,
  tags: fc.subarray(['a', 'b', 'c']),
};

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function strip(record: Record<string, CedarValueJson | undefined>): Record<string, CedarValueJson> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Record<string, CedarValueJson>;
}

const entityRefValue = (type: string, id: string): CedarValueJson => ({ __entity: { type, id } });

const requestArb: fc.Arbitrary<EvalRequest> = fc
  .record({
    principal: pick(USERS),
    action: pick(ACTIONS),
    resource: fc.oneof(
      pick(TOOLS).map((t) => ref('Tool', t)),
      pick(SERVERS).map((s) => ref('Server', s)),
    ),
    users: fc.tuple(
      ...USERS.map(() =>
        fc.record({
          dept: optional(cedarValueFor.dept),
          level: optional(cedarValueFor.level),
          tags: optional(cedarValueFor.tags),
          manager: optional(pick(USERS)),
          groups: fc.subarray(GROUPS),
        }),
      ),
    ),
    groupParents: fc.tuple(...GROUPS.map((_, i) => fc.subarray(GROUPS.slice(i + 1)))),
    groupOwners: fc.tuple(...GROUPS.map(() => optional(pick(USERS)))),
    tools: fc.tuple(
      ...TOOLS.map(() =>
        fc.record({
          destructive: fc.boolean(),
          readOnly: optional(fc.boolean()),
          limit: optional(small),
          classification: pick(['public', 'internal', 'sensitive']),
        }),
      ),
    ),
    clientTrusted: fc.tuple(optional(fc.boolean()), optional(fc.boolean())),
    context: fc.record({
      hour: optional(fc.integer({ min: 0, max: 23 })),
      args: optional(fc.record({ limit: optional(small), path: optional(pick(['/srv/a', '/srv/b', '/etc/secret', '/srv/x/secret'])) })),
      mfa: optional(fc.record({ verified: fc.boolean(), ageSeconds: optional(fc.integer({ min: 0, max: 900 })) })),
      client: optional(pick(CLIENTS)),
      ip: optional(pick(['10.1.2.3', '127.0.0.1', '192.168.0.1'])),
      flag: optional(fc.boolean()),
      scopes: optional(fc.subarray(['mcp', 'admin', 'x'])),
    }),
  })
  .map((r) => {
    const entities: CedarEntity[] = [];
    USERS.forEach((u, i) => {
      const data = r.users[i] as (typeof r.users)[number];
      entities.push({
        uid: ref('User', u),
        attrs: strip({
          dept: data.dept,
          level: data.level,
          tags: data.tags,
          manager: data.manager === undefined ? undefined : entityRefValue('User', data.manager),
        }),
        parents: data.groups.map((g) => ref('Group', g)),
      });
    });
    GROUPS.forEach((g, i) => {
      const owner = r.groupOwners[i];
      entities.push({
        uid: ref('Group', g),
        attrs: owner === undefined ? {} : { owner: entityRefValue('User', owner) },
        parents: (r.groupParents[i] as string[]).map((p) => ref('Group', p)),
      });
    });
    TOOLS.forEach((t, i) => {
      const data = r.tools[i] as (typeof r.tools)[number];
      entities.push({ uid: ref('Tool', t), attrs: strip({ ...data }), parents: [ref('Server', t.split('__')[0] as string)] });
    });
    for (const s of SERVERS) entities.push({ uid: ref('Server', s), attrs: {}, parents: [] });
    CLIENTS.forEach((c, i) => {
      entities.push({ uid: ref('Client', c), attrs: strip({ trusted: r.clientTrusted[i] }), parents: [] });
    });
    const c = r.context;
    const context = strip({
      hour: c.hour,
      args: c.args === undefined ? undefined : strip(c.args),
      mfa: c.mfa === undefined ? undefined : strip(c.mfa),
      client: c.client === undefined ? undefined : entityRefValue('Client', c.client),
      ip: c.ip === undefined ? undefined : { __extn: { fn: 'ip', arg: c.ip } },
      flag: c.flag,
      scopes: c.scopes,
    });
    return { principal: ref('User', r.principal), action: ref('Action', r.action), resource: r.resource, entities, context: recordContext(context) };
  });

function evaluators(text: string): { sliced: SlicedEvaluator; plain: PlainEvaluator } {
  const problems: LoadProblem[] = [];
  const { policies } = parsePolicies([{ name: 'random.cedar', text }], problems);
  expect(problems).toEqual([]);
  return { sliced: new SlicedEvaluator(policies), plain: new PlainEvaluator(policies) };
}

const comparable = (r: { decision: string; reasons: string[]; errors: { policy: string }[] }) => ({
  decision: r.decision,
  reasons: r.reasons,
  errored: r.errors.map((e) => e.policy),
});

describe('sliced evaluator vs plain Cedar (differential)', () => {
  it('returns the same decision, determining policies and errors on random policy sets and requests', () => {
    let requests = 0;
    let cedarCalls = 0;
    fc.assert(
      fc.property(policySetText, fc.array(requestArb, { minLength: 1, maxLength: 12 }), (text, reqs) => {
        const { sliced, plain } = evaluators(text);
        for (const request of reqs) {
          requests++;
          if (sliced.applicable(request).some((p) => p.conditional)) cedarCalls++;
          expect(comparable(sliced.evaluate(request)), `policies:\n${text}\nrequest: ${JSON.stringify(request)}`).toEqual(comparable(plain.evaluate(request)));
        }
      }),
      { numRuns: Number(process.env.DIFF_RUNS ?? 400) },
    );
    // Thousands of requests, and a good share of them decided by Cedar on a slice (not only the JS fast path).
    expect(requests).toBeGreaterThan(2000);
    expect(cedarCalls).toBeGreaterThan(requests / 10);
  }, 600_000);

  it('decides list visibility (arguments unknown) soundly, and as plain partial evaluation does where both are definite', () => {
    // The sliced answer must be borne out by plain Cedar on concrete arguments (hidden ⇒
    // denied for every argument record tried; definite allow ⇒ allowed for every one tried),
    // and agree with plain Cedar partial evaluation wherever both are definite. (Plain
    // partial evaluation is not an exact reference: once the context holds an unknown, Cedar
    // turns every context read into a residual.)
    const argsArb = fc.record({ limit: optional(small), path: optional(pick(['/srv/a', '/srv/b', '/etc/secret', '/srv/x/secret'])) });
    const counts = { allow: 0, deny: 0, unknown: 0 };
    fc.assert(
      fc.property(
        policySetText,
        fc.array(fc.tuple(requestArb, fc.array(argsArb, { minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 6 }),
        (text, cases) => {
          const { sliced, plain } = evaluators(text);
          for (const [base, samples] of cases) {
            const withArgs = (args: CedarValueJson): EvalRequest => ({
              ...base,
              context: recordContext({ ...base.context.all(), args } as Record<string, CedarValueJson>),
            });
            const unknownArgs = withArgs({ __extn: { fn: 'unknown', arg: 'args' } });
            const visibility = sliced.evaluatePartial(unknownArgs);
            counts[visibility]++;
            const reference = plain.evaluatePartial(unknownArgs);
            const where = `policies:\n${text}\nrequest: ${JSON.stringify(unknownArgs)}`;
            if (reference !== 'unknown' && visibility !== 'unknown') expect(visibility, where).toBe(reference);
            for (const args of samples) {
              if (visibility === 'unknown') continue;
              const concrete = plain.evaluate(withArgs(strip(args) as CedarValueJson)).decision;
              expect(concrete, `${where}\nargs: ${JSON.stringify(args)}`).toBe(visibility);
            }
          }
        },
      ),
      { numRuns: Number(process.env.DIFF_RUNS ?? 150) },
    );
    // The fast path must stay precise: most answers definite, and both definite kinds seen.
    expect(counts.allow).toBeGreaterThan(0);
    expect(counts.deny).toBeGreaterThan(counts.unknown);
  }, 600_000);

  it('slices big policy sets: a request evaluates only the policies whose scope admits it', () => {
    const text = Array.from(
      { length: 1000 },
      (_, i) => `permit(principal in Group::"g${i}", action == Action::"call", resource == Tool::"s${i % 7}__t${i}") when { context.hour >= 9 };`,
    ).join('\n');
    const { sliced, plain } = evaluators(`${text}\nforbid(principal, action, resource in Server::"s3") when { context.hour > 20 };`);
    const request: EvalRequest = {
      principal: ref('User', 'alice'),
      action: ref('Action', 'call'),
      resource: ref('Tool', 's3__t10'),
      entities: [
        { uid: ref('User', 'alice'), attrs: {}, parents: [ref('Group', 'g10'), ref('Group', 'g11')] },
        { uid: ref('Tool', 's3__t10'), attrs: {}, parents: [ref('Server', 's3')] },
      ],
      context: recordContext({ hour: 10 }),
    };
    expect(sliced.applicable(request).map((p) => p.id)).toEqual(['random.cedar#11', 'random.cedar#1001']);
    expect(sliced.evaluate(request)).toEqual({ decision: 'allow', reasons: ['random.cedar#11'], errors: [] });
    expect(comparable(plain.evaluate(request))).toEqual(comparable(sliced.evaluate(request)));
  });
});
