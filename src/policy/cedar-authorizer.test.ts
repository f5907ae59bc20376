import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { principal, STARTER_POLICIES } from '../../test/helpers/policy-fixtures.js';
import type { Principal } from '../tokens/index.js';
import { CedarAuthorizer, type CedarAuthorizerSettings } from './cedar-authorizer.js';
import { compilePolicySet, PolicyLoadError } from './cedar/policy-set.js';
import { DEFAULT_SCHEMA } from './cedar/default-schema.js';
import { loadPolicyFolder } from './policy-store.js';
import type { AuthzRequest } from './types.js';

const STARTER = STARTER_POLICIES;

const settings: CedarAuthorizerSettings = {
  timeZone: 'UTC',
  destructiveTools: 'four-eyes',
  classification: (server, tool) => (server === 'db' && tool === 'customers' ? 'confidential' : undefined),
};

// Tuesday 2025-01-07 10:30 UTC, and Saturday 2025-01-11 10:30 UTC.
const TUESDAY = Date.UTC(2025, 0, 7, 10, 30);
const SATURDAY = Date.UTC(2025, 0, 11, 10, 30);

function call(who: Principal, server: string, tool: string, args: Record<string, unknown> = {}, extra: Partial<AuthzRequest> = {}): AuthzRequest {
  return { principal: who, action: 'call', server, kind: 'tool', id: `${server}__${tool}`, args, facts: { now: TUESDAY, method: 'tools/call' }, ...extra };
}

const starter = () => new CedarAuthorizer(loadPolicyFolder(STARTER), settings);

describe('CedarAuthorizer with the starter policies', () => {
  const alice = principal('alice', ['eng']);
  const bob = principal('bob');

  it('allows what a permit covers, naming the deciding policy', () => {
    expect(starter().decide(call(alice, 'echo', 'add', { a: 1, b: 2 }))).toEqual({ effect: 'allow', policy: 'eng-call-echo', policies: ['eng-call-echo'] });
  });

  it('denies by default with a stable reason and a message that names only the tool', () => {
    expect(starter().decide(call(bob, 'echo', 'add'))).toEqual({
      effect: 'deny',
      reason: 'not_allowed',
      message: 'You are not allowed to call the tool "echo__add".',
      policy: 'default-deny',
    });
  });

  it('allows read-only tools for eng on any server, and nothing else there', () => {
    const auth = starter();
    expect(auth.decide(call(alice, 'files', 'list', {}, { annotations: { readOnlyHint: true } }))).toMatchObject({
      effect: 'allow',
      policy: 'eng-read-only-tools',
    });
    expect(auth.decide(call(alice, 'files', 'write', {}))).toMatchObject({ effect: 'deny', reason: 'not_allowed' });
  });

  it('requires four-eyes approval for a destructive tool a plain permit allows (the default)', () => {
    expect(starter().decide(call(alice, 'echo', 'delete_everything', {}, { annotations: { destructiveHint: true } }))).toEqual({
      effect: 'require_approval',
      level: 'four-eyes',
      reason: 'approval_required',
      policy: 'eng-call-echo',
      policies: ['eng-call-echo'],
    });
  });

  it('takes the level from @approval on the deciding permit', () => {
    const carol = principal('carol', ['ops']);
    expect(starter().decide(call(carol, 'db', 'drop_table', {}, { annotations: { destructiveHint: true } }))).toMatchObject({
      effect: 'require_approval',
      level: 'four-eyes',
      policy: 'ops-destructive-four-eyes',
    });
    const dave = principal('dave', ['release']);
    expect(starter().decide(call(dave, 'ci', 'deploy_prod'))).toMatchObject({
      effect: 'require_approval',
      level: 'confirm',
      reason: 'confirmation_required',
      policy: 'release-deploys',
    });
  });

  it('keeps deploys inside the time window: a forbid with its own reason id and message', () => {
    const dave = principal('dave', ['release']);
    expect(starter().decide(call(dave, 'ci', 'deploy_prod', {}, { facts: { now: SATURDAY } }))).toEqual({
      effect: 'deny',
      reason: 'outside_deploy_window',
      message: 'Deploys are allowed Monday to Friday, 09:00-17:00.',
      policy: 'deploy-window',
      policies: ['deploy-window'],
    });
    // 17:00 is outside, 16:59 inside.
    expect(starter().decide(call(dave, 'ci', 'deploy_prod', {}, { facts: { now: Date.UTC(2025, 0, 7, 17, 0) } }))).toMatchObject({
      effect: 'deny',
      reason: 'outside_deploy_window',
    });
    expect(starter().decide(call(dave, 'ci', 'deploy_prod', {}, { facts: { now: Date.UTC(2025, 0, 7, 16, 59) } }))).toMatchObject({
      effect: 'require_approval',
    });
  });

  it('evaluates the time window in the configured time zone', () => {
    const dave = principal('dave', ['release']);
    // 10:30 UTC on Tuesday is 01:30 in Los Angeles (Tuesday): outside.
    const la = new CedarAuthorizer(loadPolicyFolder(STARTER), { ...settings, timeZone: 'America/Los_Angeles' });
    expect(la.decide(call(dave, 'ci', 'deploy_prod'))).toMatchObject({ effect: 'deny', reason: 'outside_deploy_window' });
  });

  it('caps exports by argument, and refuses an export that does not say how many rows', () => {
    const auth = starter();
    expect(auth.decide(call(alice, 'echo', 'export_rows', { limit: 1000 }))).toMatchObject({ effect: 'allow' });
    expect(auth.decide(call(alice, 'echo', 'export_rows', { limit: 1001 }))).toMatchObject({
      effect: 'deny',
      reason: 'export_limit',
      policy: 'export-cap',
      message: 'Exports are capped at 1000 rows: pass limit <= 1000.',
    });
    expect(auth.decide(call(alice, 'echo', 'export_rows', {}))).toMatchObject({ effect: 'deny', reason: 'export_limit' });
  });

  it('refuses a hard limit outright, even for a destructive tool that would otherwise go to approval', () => {
    const carol = principal('carol', ['ops']);
    const request = call(carol, 'db', 'delete_rows', { max_rows: 5000 }, { annotations: { destructiveHint: true } });
    expect(starter().decide(request)).toMatchObject({ effect: 'deny', reason: 'hard_limit', policy: 'delete-rows-hard-limit' });
    expect(starter().decide({ ...request, args: { max_rows: 10 } })).toMatchObject({ effect: 'require_approval' });
  });

  it('constrains arguments with like: only /srv/public/* for read_file', () => {
    const auth = starter();
    expect(auth.decide(call(alice, 'echo', 'read_file', { path: '/srv/public/a.txt' }))).toMatchObject({ effect: 'allow' });
    expect(auth.decide(call(alice, 'echo', 'read_file', { path: '/etc/shadow' }))).toMatchObject({
      effect: 'deny',
      reason: 'path_not_allowed',
      policy: 'public-files-only',
    });
  });

  it('types arguments as the schema declares them: a string where an integer is declared cannot slip past a cap', () => {
    const auth = starter();
    const request = call(alice, 'echo', 'export_rows', { limit: '5000' });
    expect(auth.argumentProblem(request)).toBe('Argument "limit" must be an integer (policy schema).');
    expect(auth.decide(request)).toMatchObject({ effect: 'deny', reason: 'invalid_arguments' });
    expect(auth.argumentProblem(call(alice, 'echo', 'export_rows', { limit: 10, other: { __entity: { type: 'Group', id: 'admins' } } }))).toBeUndefined();
  });

  it('reads MFA age from amr and auth_time: fresh MFA passes, stale or missing MFA is refused', () => {
    const strict = starter();
    const now = TUESDAY;
    const fresh = principal('erin', ['eng'], { amr: ['pwd', 'otp'], auth_time: now / 1000 - 120 });
    const stale = principal('erin', ['eng'], { amr: ['pwd', 'otp'], auth_time: now / 1000 - 3600 });
    const noMfa = principal('erin', ['eng'], { amr: ['pwd'], auth_time: now / 1000 - 10 });
    const readOnly = { annotations: { readOnlyHint: true } };
    expect(strict.decide(call(fresh, 'db', 'customers', {}, readOnly))).toMatchObject({ effect: 'allow' });
    expect(strict.decide(call(stale, 'db', 'customers', {}, readOnly))).toMatchObject({ effect: 'deny', reason: 'mfa_required' });
    expect(strict.decide(call(noMfa, 'db', 'customers', {}, readOnly))).toMatchObject({ effect: 'deny', reason: 'mfa_required' });
  });

  it('lists an item when some arguments could be allowed, and hides it when none could', () => {
    const auth = starter();
    const list = (who: Principal, server: string, tool: string, now = TUESDAY) =>
      auth.decide({ principal: who, action: 'list', server, kind: 'tool', id: `${server}__${tool}`, facts: { now } }).effect;
    expect(list(alice, 'echo', 'export_rows')).toBe('allow'); // allowed with limit <= 1000
    expect(list(alice, 'echo', 'read_file')).toBe('allow'); // allowed for /srv/public/*
    expect(list(bob, 'echo', 'add')).toBe('deny');
    const dave = principal('dave', ['release']);
    expect(list(dave, 'ci', 'deploy_prod')).toBe('allow');
    expect(list(dave, 'ci', 'deploy_prod', SATURDAY)).toBe('deny'); // no argument makes Saturday a weekday
  });
});

describe('Gatehouse rules on top of Cedar', () => {
  const alice = principal('alice', ['eng']);
  const folder = (policies: string, schema = DEFAULT_SCHEMA.replace('type Args = {};', 'type Args = { limit?: Long };')) =>
    compilePolicySet({ files: [{ name: 'p.cedar', text: policies }], schema: { name: 's.cedarschema', text: schema } });

  it('fails closed when a forbid errors (Cedar alone would skip it and allow)', () => {
    const set = folder(
      `permit(principal, action, resource);\n@id("overflow") forbid(principal, action, resource) when { context.args has limit && context.args.limit * 4611686018427387904 > 0 };`,
    );
    const auth = new CedarAuthorizer(set, settings);
    expect(auth.explain(call(alice, 'x', 'y', { limit: 4 })).result).toMatchObject({ decision: 'allow', errors: [{ policy: 'overflow' }] });
    expect(auth.decide(call(alice, 'x', 'y', { limit: 4 }))).toMatchObject({ effect: 'deny', reason: 'policy_error', policy: 'overflow' });
    expect(auth.decide(call(alice, 'x', 'y', { limit: 0 }))).toMatchObject({ effect: 'allow' });
  });

  it('the strictest @approval among determining permits wins; @approval("none") lifts the destructive default only when every determining permit says so', () => {
    const destructive = { annotations: { destructiveHint: true } };
    const none = folder(`@approval("none") permit(principal, action, resource);`);
    expect(new CedarAuthorizer(none, settings).decide(call(alice, 'x', 'y', {}, destructive))).toMatchObject({ effect: 'allow' });
    const mixed = folder(`@approval("none") permit(principal, action, resource);\npermit(principal in Group::"eng", action, resource);`);
    expect(new CedarAuthorizer(mixed, settings).decide(call(alice, 'x', 'y', {}, destructive))).toMatchObject({
      effect: 'require_approval',
      level: 'four-eyes',
      policy: 'p.cedar#2',
    });
    expect(new CedarAuthorizer(mixed, { ...settings, destructiveTools: 'confirm' }).decide(call(alice, 'x', 'y', {}, destructive))).toMatchObject({
      effect: 'require_approval',
      level: 'confirm',
    });
  });

  it('reads approval state only when a policy does', () => {
    expect(new CedarAuthorizer(folder('permit(principal, action, resource);'), settings).readsApprovalState).toBe(false);
    const set = folder('permit(principal, action, resource);\nforbid(principal, action, resource in Server::"prod") when { context.approval.breakGlass };');
    const auth = new CedarAuthorizer(set, settings);
    expect(auth.readsApprovalState).toBe(true);
    expect(auth.decide(call(alice, 'prod', 'x', {}, { facts: { approval: { granted: true, breakGlass: true } } }))).toMatchObject({
      effect: 'deny',
      reason: 'forbidden',
    });
    expect(auth.decide(call(alice, 'prod', 'x', {}, { facts: { approval: { granted: true, breakGlass: false } } }))).toMatchObject({ effect: 'allow' });
  });

  it('maps IdP attributes declared on User from token claims, ignoring claims of another type', () => {
    const schema = DEFAULT_SCHEMA.replace('name?: String,', 'name?: String,\n  department?: String,');
    const set = folder('permit(principal, action, resource) when { principal has department && principal.department == "finance" };', schema);
    const auth = new CedarAuthorizer(set, settings);
    expect(auth.decide(call(principal('f', [], { department: 'finance' }), 'x', 'y'))).toMatchObject({ effect: 'allow' });
    expect(auth.decide(call(principal('g', [], { department: ['finance'] }), 'x', 'y'))).toMatchObject({ effect: 'deny' });
  });

  it('source IP, scopes and client are in context', () => {
    const set = folder(
      'permit(principal, action, resource) when { context has sourceIp && context.sourceIp.isInRange(ip("10.0.0.0/8")) && context.scopes.contains("mcp") && context has client && context.client == Client::"agent-1" };',
    );
    const auth = new CedarAuthorizer(set, settings);
    expect(auth.decide(call(alice, 'x', 'y', {}, { facts: { ip: '10.1.2.3' } }))).toMatchObject({ effect: 'allow' });
    expect(auth.decide(call(alice, 'x', 'y', {}, { facts: { ip: '::ffff:10.1.2.3' } }))).toMatchObject({ effect: 'allow' });
    expect(auth.decide(call(alice, 'x', 'y', {}, { facts: { ip: '192.168.1.1' } }))).toMatchObject({ effect: 'deny' });
  });
});

describe('loading a policy folder', () => {
  const load = (files: Record<string, string>, schema?: string) =>
    compilePolicySet({
      files: Object.entries(files).map(([name, text]) => ({ name, text })),
      schema: schema === undefined ? undefined : { name: 'schema.cedarschema', text: schema },
    });
  const problems = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      if (error instanceof PolicyLoadError) return error.message;
      throw error;
    }
    throw new Error('expected a PolicyLoadError');
  };

  it('reports a syntax error with file, line and column', () => {
    expect(problems(() => load({ 'a.cedar': 'permit(principal, action, resource);\n\npermit(principal, action, resource) when { context.x == };' }))).toMatch(
      /^a\.cedar:3:\d+: .*unexpected token/,
    );
  });

  it('validates against the schema: an unknown attribute, an optional argument read without has', () => {
    const message = problems(() =>
      load(
        {
          'b.cedar':
            'permit(principal, action, resource is Tool) when { resource.colour == "red" };\npermit(principal, action == Action::"call", resource) when { context.args.limit > 3 };',
        },
        DEFAULT_SCHEMA.replace('type Args = {};', 'type Args = { limit?: Long };'),
      ),
    );
    expect(message).toMatch(/b\.cedar:1:\d+: .*colour/);
    expect(message).toMatch(/b\.cedar:2:\d+: .*optional attribute/);
  });

  it('refuses unknown @approval values, bad reason ids, duplicate ids and templates', () => {
    expect(problems(() => load({ 'c.cedar': '@approval("maybe") permit(principal, action, resource);' }))).toContain(
      '@approval("maybe") must be one of "none", "confirm", "four-eyes"',
    );
    expect(problems(() => load({ 'c.cedar': '@reason("Not Allowed!") forbid(principal, action, resource);' }))).toContain('must be a lower-case identifier');
    expect(
      problems(() => load({ 'c.cedar': '@id("x") permit(principal, action, resource);', 'd.cedar': '@id("x") permit(principal, action, resource);' })),
    ).toContain('policy id "x" is already used at c.cedar:1');
    expect(problems(() => load({ 'e.cedar': 'permit(principal == ?principal, action, resource);' }))).toContain('templates');
  });

  it("refuses a schema without Gatehouse's entity model, namespaces, or action groups", () => {
    expect(problems(() => load({}, 'entity User; action call appliesTo { principal: [User], resource: [User] };'))).toContain('entity type Tool is missing');
    expect(problems(() => load({}, `${DEFAULT_SCHEMA}\naction admin;\naction nuke in [admin] appliesTo { principal: [User], resource: [Tool] };`))).toContain(
      'action groups (memberOf) are not supported',
    );
  });

  it('names policies by @id, else file#n in source order (n counts past 10 correctly)', () => {
    const twelve = Array.from({ length: 12 }, (_, i) => `permit(principal == User::"u${i}", action, resource);`).join('\n');
    const set = load({ 'a.cedar': twelve, 'b.cedar': '@id("named") permit(principal, action, resource);' });
    expect(set.policies.map((p) => p.id)).toEqual([...Array.from({ length: 12 }, (_, i) => `a.cedar#${i + 1}`), 'named']);
    expect(set.policies[10]?.text).toContain('User::"u10"');
    expect(set.policies[10]?.source).toBe('a.cedar:11');
  });

  it('loads the starter folder, and an empty folder denies everything', () => {
    expect(loadPolicyFolder(STARTER).policies.length).toBeGreaterThanOrEqual(9);
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-pol-'));
    const auth = new CedarAuthorizer(loadPolicyFolder(dir), settings);
    expect(auth.decide(call(principal('alice', ['eng']), 'echo', 'add'))).toMatchObject({ effect: 'deny', reason: 'not_allowed' });
  });

  it('refuses a folder with two schema files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-pol-'));
    cpSync(STARTER, dir, { recursive: true });
    writeFileSync(path.join(dir, 'other.cedarschema'), DEFAULT_SCHEMA);
    expect(problems(() => loadPolicyFolder(dir))).toContain('has 2 schema files');
  });
});
