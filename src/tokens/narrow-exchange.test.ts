import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExchangeRefusal, MAX_ACT_DEPTH, narrowExchange, type ExchangeContext, type ExchangeRequest, type ExchangeSubject } from './narrow-exchange.js';
import type { Principal } from './principal.js';
import { checkReach, type ReachTarget } from './reach.js';

const AUDIENCE = 'http://127.0.0.1:8787/mcp';
const NOW = 1_700_000_000_000;
const SERVERS = ['a', 'b'];
const TOOLS = ['x', 'y'];

function subject(over: Partial<ExchangeSubject> = {}): ExchangeSubject {
  return { groups: ['eng'], scopes: ['mcp'], authorizationDetails: undefined, expiresAt: NOW + 300_000, clientId: 'agent', claims: {}, ...over };
}

function context(over: Partial<ExchangeContext> = {}): ExchangeContext {
  return { audience: AUDIENCE, now: NOW, defaultTtlMs: 300_000, userGroups: ['eng'], actor: 'sub-agent', knownServer: (s) => SERVERS.includes(s), ...over };
}

function refusal(fn: () => unknown): { error: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof ExchangeRefusal) return { error: error.error, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

const detail = (server: string, tool: string, args?: Record<string, unknown>) => ({
  type: 'gatehouse_tool_call',
  server,
  tool,
  ...(args ? { arguments: args } : {}),
});

describe('token exchange narrowing', () => {
  it('takes groups from the subject token only, and only those the user still has', () => {
    // The reported case: a token minted for a read-only bot identity must not come back with
    // the user's own (wider) groups.
    const bot = narrowExchange(subject({ groups: ['readonly-bot'] }), { resource: AUDIENCE }, context({ userGroups: ['eng', 'approvers'] }));
    expect(bot.groups).toEqual([]);
    // A group removed from the user since the subject token was issued is not regained.
    expect(narrowExchange(subject({ groups: ['eng', 'approvers'] }), { resource: AUDIENCE }, context({ userGroups: ['eng'] })).groups).toEqual(['eng']);
    expect(narrowExchange(subject({ groups: ['eng', 'eng'] }), { resource: AUDIENCE }, context({ userGroups: ['eng', 'ops'] })).groups).toEqual(['eng']);
  });

  it('accepts only scopes the subject holds or server:/tool: narrowings of them', () => {
    const wide = subject({ scopes: ['mcp', 'server:a'] });
    expect(narrowExchange(wide, { resource: AUDIENCE, scope: 'mcp tool:a__x' }, context()).scopes).toEqual(['mcp', 'tool:a__x']);
    expect(narrowExchange(wide, { resource: AUDIENCE }, context()).scopes).toEqual(['mcp', 'server:a']);
    // Scopes the subject does not hold are refused, whatever they are.
    expect(refusal(() => narrowExchange(wide, { resource: AUDIENCE, scope: 'mcp server:a admin' }, context()))).toMatchObject({ error: 'invalid_scope' });
    expect(refusal(() => narrowExchange(subject({ scopes: ['server:a'] }), { resource: AUDIENCE, scope: 'mcp server:a' }, context()))).toMatchObject({
      error: 'invalid_scope',
    });
    expect(refusal(() => narrowExchange(wide, { resource: AUDIENCE, scope: 'mcp' }, context()))).toMatchObject({ error: 'invalid_scope' });
    expect(refusal(() => narrowExchange(wide, { resource: AUDIENCE, scope: 'mcp server:b' }, context()))).toMatchObject({ error: 'invalid_scope' });
    expect(refusal(() => narrowExchange(subject(), { resource: AUDIENCE, scope: 'mcp server:nope' }, context()))).toMatchObject({ error: 'invalid_scope' });
    expect(refusal(() => narrowExchange(subject(), { resource: AUDIENCE, scope: 'mcp tool:a__' }, context()))).toMatchObject({ error: 'invalid_scope' });
  });

  it('mints only for this resource', () => {
    expect(refusal(() => narrowExchange(subject(), {}, context()))).toMatchObject({ error: 'invalid_target' });
    expect(refusal(() => narrowExchange(subject(), { resource: 'https://elsewhere.example/mcp' }, context()))).toMatchObject({ error: 'invalid_target' });
    expect(refusal(() => narrowExchange(subject(), { resource: AUDIENCE, audience: 'other' }, context()))).toMatchObject({ error: 'invalid_target' });
    expect(refusal(() => narrowExchange(subject(), { resource: [AUDIENCE, 'https://elsewhere.example/mcp'] }, context()))).toMatchObject({
      error: 'invalid_target',
    });
    expect(narrowExchange(subject(), { audience: AUDIENCE }, context()).audience).toBe(AUDIENCE);
  });

  it('keeps authorization details, accepts narrower ones, refuses wider ones', () => {
    const bound = subject({ authorizationDetails: [detail('a', 'x', { n: { maximum: 10 } })] });
    expect(narrowExchange(bound, { resource: AUDIENCE }, context()).authorizationDetails).toEqual([detail('a', 'x', { n: { maximum: 10 } })]);
    expect(
      narrowExchange(bound, { resource: AUDIENCE, authorizationDetails: JSON.stringify([detail('a', 'x', { n: { maximum: 5 } })]) }, context())
        .authorizationDetails,
    ).toEqual([detail('a', 'x', { n: { maximum: 5 } })]);
    for (const wider of [
      [detail('a', 'x', { n: { maximum: 11 } })],
      [detail('a', 'x')],
      [detail('a', 'y', { n: { maximum: 5 } })],
      [detail('a', 'x', { n: { maximum: 5 } }), detail('b', 'x')],
    ]) {
      expect(refusal(() => narrowExchange(bound, { resource: AUDIENCE, authorizationDetails: JSON.stringify(wider) }, context()))).toMatchObject({
        error: 'invalid_authorization_details',
      });
    }
    // Without details, the subject's scopes bound what may be requested.
    const scoped = subject({ scopes: ['mcp', 'tool:a__x'] });
    expect(narrowExchange(scoped, { resource: AUDIENCE, authorizationDetails: JSON.stringify([detail('a', 'x')]) }, context()).authorizationDetails).toEqual([
      detail('a', 'x'),
    ]);
    expect(refusal(() => narrowExchange(scoped, { resource: AUDIENCE, authorizationDetails: JSON.stringify([detail('a', 'y')]) }, context()))).toMatchObject({
      error: 'invalid_authorization_details',
    });
    for (const bad of ['not json', '[]', '{}', JSON.stringify([{ type: 'other' }]), JSON.stringify([detail('zz', 'x')]), JSON.stringify(['x'])]) {
      expect(refusal(() => narrowExchange(subject(), { resource: AUDIENCE, authorizationDetails: bad }, context()))).toMatchObject({
        error: 'invalid_authorization_details',
      });
    }
  });

  it('refuses to turn a subject bound to nothing into an unrestricted token', () => {
    // An empty list would be dropped when the token is signed, and no claim means "unrestricted".
    expect(refusal(() => narrowExchange(subject({ authorizationDetails: [] }), { resource: AUDIENCE }, context()))).toMatchObject({ error: 'invalid_request' });
    // Details of types Gatehouse does not interpret still bind (to nothing): they are kept as they are.
    expect(narrowExchange(subject({ authorizationDetails: [{ type: 'other' }] }), { resource: AUDIENCE }, context()).authorizationDetails).toEqual([
      { type: 'other' },
    ]);
    expect(
      refusal(() =>
        narrowExchange(
          subject({ authorizationDetails: [{ type: 'other' }] }),
          { resource: AUDIENCE, authorizationDetails: JSON.stringify([detail('a', 'x')]) },
          context(),
        ),
      ),
    ).toMatchObject({ error: 'invalid_authorization_details' });
  });

  it('ends no later than the subject token, and refuses to outlive it', () => {
    const short = subject({ expiresAt: NOW + 90_500 });
    const result = narrowExchange(short, { resource: AUDIENCE }, context());
    expect(result.iat).toBe(NOW / 1000);
    expect(result.exp).toBe(Math.floor((NOW + 90_500) / 1000));
    expect(narrowExchange(short, { resource: AUDIENCE, expiresIn: '30' }, context()).exp).toBe(NOW / 1000 + 30);
    expect(narrowExchange(subject({ expiresAt: NOW + 900_000 }), { resource: AUDIENCE }, context()).exp).toBe(NOW / 1000 + 300);
    for (const bad of ['91', '0', '-1', '1.5', '1e3', ' 5', '9999999999']) {
      expect(refusal(() => narrowExchange(short, { resource: AUDIENCE, expiresIn: bad }, context()))).toMatchObject({ error: 'invalid_request' });
    }
    expect(refusal(() => narrowExchange(subject({ expiresAt: NOW + 900 }), { resource: AUDIENCE }, context()))).toMatchObject({ error: 'invalid_request' });
  });

  it('puts the new actor on top of the act chain (RFC 8693 §4.1) and bounds its depth', () => {
    expect(narrowExchange(subject(), { resource: AUDIENCE }, context()).act).toEqual({ sub: 'sub-agent', act: { sub: 'agent' } });
    expect(narrowExchange(subject({ clientId: 'sub-agent' }), { resource: AUDIENCE }, context()).act).toEqual({ sub: 'sub-agent' });
    const chained = subject({ clientId: 'sub-agent', claims: { act: { sub: 'sub-agent', act: { sub: 'agent', extra: 'dropped' } } } });
    expect(narrowExchange(chained, { resource: AUDIENCE }, context({ actor: 'leaf' })).act).toEqual({
      sub: 'leaf',
      act: { sub: 'sub-agent', act: { sub: 'agent' } },
    });
    let deep: Record<string, unknown> = { sub: 'c0' };
    for (let i = 1; i < MAX_ACT_DEPTH; i++) deep = { sub: `c${i}`, act: deep };
    expect(refusal(() => narrowExchange(subject({ claims: { act: deep } }), { resource: AUDIENCE }, context()))).toMatchObject({ error: 'invalid_request' });
    expect(refusal(() => narrowExchange(subject({ claims: { act: { sub: 1 } } }), { resource: AUDIENCE }, context()))).toMatchObject({
      error: 'invalid_request',
    });
  });
});

// ---- property: whatever the subject and the request, the result never exceeds the subject ----

const scopeVocabulary = ['mcp', 'server:a', 'server:b', 'tool:a__x', 'tool:a__y', 'tool:b__x', 'tool:b__', 'server:zz', 'openid', 'admin'];
const constraint = fc
  .record(
    {
      const: fc.integer({ min: 0, max: 3 }),
      enum: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 2 }),
      minimum: fc.integer({ min: 0, max: 3 }),
      maximum: fc.integer({ min: 0, max: 3 }),
    },
    { requiredKeys: [] },
  )
  .filter((c) => Object.keys(c).length > 0);
const toolDetail = fc
  .record({
    type: fc.constant('gatehouse_tool_call'),
    server: fc.constantFrom(...SERVERS, 'zz'),
    tool: fc.constantFrom(...TOOLS),
    arguments: fc.option(fc.dictionary(fc.constantFrom('n', 'm'), constraint, { maxKeys: 2 }), { nil: undefined }),
  })
  .map((d) => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as Record<string, unknown>);
const anyDetail = fc.oneof({ weight: 4, arbitrary: toolDetail }, { weight: 1, arbitrary: fc.constant({ type: 'other' } as Record<string, unknown>) });
const groups = fc.subarray(['g1', 'g2', 'g3', 'g4']);

const actClaim: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.constantFrom('c1', 'c2', 'c3'), { minLength: 1, maxLength: 9 })
      .map((subs) => subs.reduce<Record<string, unknown> | undefined>((inner, sub) => ({ sub, ...(inner ? { act: inner } : {}) }), undefined)),
  },
  { weight: 1, arbitrary: fc.constant({ sub: 5 }) },
);

const subjectArb: fc.Arbitrary<ExchangeSubject> = fc.record({
  groups,
  scopes: fc.subarray(scopeVocabulary),
  authorizationDetails: fc.option(fc.array(anyDetail, { maxLength: 3 }), { nil: undefined }),
  expiresAt: fc.oneof(
    { weight: 1, arbitrary: fc.integer({ min: NOW - 10_000, max: NOW + 2_000 }) },
    { weight: 6, arbitrary: fc.integer({ min: NOW + 2_000, max: NOW + 900_000 }) },
  ),
  clientId: fc.option(fc.constantFrom('agent', 'sub-agent'), { nil: undefined }),
  claims: actClaim.map((act) => (act === undefined ? {} : { act })),
});

/** Requests mostly plausible (derived from the subject, for this resource), sometimes hostile. */
function requestFor(subj: ExchangeSubject): fc.Arbitrary<ExchangeRequest> {
  const held = subj.authorizationDetails ?? [];
  const narrowedDetail = held.length
    ? fc.constantFrom(...held).chain((d) =>
        fc.record({ extra: fc.option(fc.dictionary(fc.constantFrom('n', 'm'), constraint, { maxKeys: 2 }), { nil: undefined }) }).map(({ extra }) => ({
          ...d,
          ...(extra || d.arguments ? { arguments: { ...(d.arguments as Record<string, unknown> | undefined), ...extra } } : {}),
        })),
      )
    : toolDetail;
  return fc.record({
    scope: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: fc.subarray([...subj.scopes]).map((s) => s.join(' ')) },
      { weight: 1, arbitrary: fc.subarray(scopeVocabulary).map((s) => s.join(' ')) },
    ),
    authorizationDetails: fc.oneof(
      { weight: 5, arbitrary: fc.constant(undefined) },
      { weight: 4, arbitrary: fc.array(narrowedDetail, { minLength: 1, maxLength: 2 }).map((d) => JSON.stringify(d)) },
      { weight: 1, arbitrary: fc.array(anyDetail, { maxLength: 3 }).map((d) => JSON.stringify(d)) },
      { weight: 1, arbitrary: fc.constantFrom('nope', '{}') },
    ),
    expiresIn: fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.integer({ min: -5, max: 1000 }).map(String) },
      { weight: 1, arbitrary: fc.constantFrom('1.5', 'x', '') },
    ),
    resource: fc.oneof({ weight: 9, arbitrary: fc.constant(AUDIENCE) }, { weight: 1, arbitrary: fc.constantFrom('https://elsewhere.example/mcp', undefined) }),
    audience: fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(AUDIENCE, 'other') }),
  });
}

const principal = (scopes: readonly string[], authorizationDetails: readonly Record<string, unknown>[] | undefined): Principal => ({
  sub: 'alice',
  groups: [],
  clientId: 'c',
  scopes,
  jti: 'j',
  issuedAt: 0,
  expiresAt: 1,
  act: [],
  authorizationDetails,
  authTime: undefined,
  amr: [],
  grantId: undefined,
  dpopJkt: undefined,
  claims: {},
});

const argSamples: (Record<string, unknown> | undefined)[] = [undefined, {}, { n: 0 }, { n: 2 }, { n: 3, m: 1 }, { n: 5, m: 0 }, { m: 2 }, { n: 'a' }];
const targets: ReachTarget[] = [
  ...SERVERS.flatMap((server) => TOOLS.flatMap((name) => argSamples.map((args) => ({ kind: 'tool' as const, server, name, id: `${server}__${name}`, args })))),
  ...SERVERS.map((server) => ({ kind: 'prompt' as const, server, name: 'p', id: `${server}__p` })),
  ...SERVERS.map((server) => ({ kind: 'resource' as const, server, name: 'r', id: 'r' })),
];

function subs(act: unknown): string[] {
  const out: string[] = [];
  for (let node = act as { sub?: unknown; act?: unknown } | undefined; node; node = node.act as typeof node) out.push(String(node.sub));
  return out;
}

describe('token exchange narrowing (property)', () => {
  it('never yields a token wider than the subject on any dimension', () => {
    fc.assert(
      fc.property(
        subjectArb.chain((subj) => requestFor(subj).map((request) => [subj, request] as const)),
        groups,
        ([subj, request], userGroups) => {
          let result;
          try {
            result = narrowExchange(subj, request, context({ userGroups }));
          } catch (error) {
            // A refusal is always one of the protocol errors, never a crash.
            expect(error).toBeInstanceOf(ExchangeRefusal);
            expect(['invalid_request', 'invalid_scope', 'invalid_target', 'invalid_authorization_details']).toContain((error as ExchangeRefusal).error);
            return;
          }
          // audience: only this resource
          expect(result.audience).toBe(AUDIENCE);
          // groups: ⊆ subject's ∩ user's current
          for (const g of result.groups) {
            expect(subj.groups).toContain(g);
            expect(userGroups).toContain(g);
          }
          // scopes: literally held, or a server:/tool: narrowing
          for (const s of result.scopes) expect(subj.scopes.includes(s) || s.startsWith('server:') || s.startsWith('tool:')).toBe(true);
          // reach: everything the result reaches, the subject reaches
          const wide = principal(subj.scopes, subj.authorizationDetails);
          const narrow = principal(result.scopes, result.authorizationDetails);
          for (const target of targets) if (checkReach(narrow, target).ok) expect(checkReach(wide, target).ok).toBe(true);
          // details: a bound subject yields a bound result
          if (subj.authorizationDetails !== undefined) expect(result.authorizationDetails?.length).toBeGreaterThan(0);
          // lifetime: within the subject's and the default
          expect(result.exp).toBeLessThanOrEqual(Math.floor(subj.expiresAt / 1000));
          expect(result.exp - result.iat).toBeGreaterThanOrEqual(1);
          expect(result.exp - result.iat).toBeLessThanOrEqual(300);
          // act: the new actor on top of the subject's chain
          const chain = subs(result.act);
          expect(chain[0]).toBe('sub-agent');
          const before = subj.claims.act !== undefined ? subs(subj.claims.act) : subj.clientId && subj.clientId !== 'sub-agent' ? [subj.clientId] : [];
          expect(chain.slice(1)).toEqual(before);
        },
      ),
      { numRuns: 10_000 },
    );
  });
});
