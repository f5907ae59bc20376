import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeConnector } from '../../../test/helpers/fake-connector.js';
import { Harness } from '../../../test/helpers/gateway-harness.js';
import { STARTER_POLICIES } from '../../../test/helpers/policy-fixtures.js';

/** The request path with Cedar policies, in process: validation, decisions, audit. */
describe('pipeline with Cedar policies (starter set)', () => {
  let h: Harness;
  let echo: FakeConnector;

  beforeEach(async () => {
    echo = new FakeConnector('echo', [
      { name: 'add', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } },
      { name: 'export_rows', inputSchema: { type: 'object', properties: { limit: {} } } },
      { name: 'delete_everything', annotations: { destructiveHint: true } },
    ]);
    h = await Harness.create({ servers: { echo: { command: 'unused' } }, policies: STARTER_POLICIES, rateLimits: { enabled: false } }, [echo]);
  });
  afterEach(async () => h.close());

  const denials = async () => {
    await h.assembly.audit.flush();
    return (await h.assembly.storage.audit.query({ kinds: ['call.denied'] })).map(
      (r) => JSON.parse(r.body) as { decision: { reason: string; policy?: string }; outcome: { code: string }; target: { tool?: string } },
    );
  };

  it('lists only what the principal may use, and refuses a hidden tool called by name — audited, not forwarded', async () => {
    const bob = await h.token('bob', { groups: ['qa'] });
    const sid = await h.open(bob);
    const list = await h.rpc(bob, sid, 'tools/list');
    expect((list.response.result as { tools: unknown[] }).tools).toEqual([]);
    const call = await h.rpc(bob, sid, 'tools/call', { name: 'add', arguments: { a: 1, b: 2 } });
    expect(call.response.error).toEqual({
      code: -32003,
      message: 'You are not allowed to call the tool "echo__add".',
      data: { code: 'policy.denied', reason: 'not_allowed', policy: 'default-deny' },
    });
    expect(echo.calls).toHaveLength(0);
    expect(await denials()).toMatchObject([{ decision: { reason: 'not_allowed', policy: 'default-deny' }, target: { tool: 'echo__add' } }]);
  });

  it('allows eng, and shows the tools eng may use', async () => {
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const list = await h.rpc(alice, sid, 'tools/list');
    expect((list.response.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(['add', 'export_rows', 'delete_everything']);
    const call = await h.rpc(alice, sid, 'tools/call', { name: 'add', arguments: { a: 1, b: 2 } });
    expect(call.response.result).toMatchObject({ content: [{ text: 'add:{"a":1,"b":2}' }] });
  });

  it('refuses arguments that fail the input schema with -32602 before policy, and forwards nothing', async () => {
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const call = await h.rpc(alice, sid, 'tools/call', { name: 'add', arguments: { a: 'one' } });
    expect(call.response.error).toEqual({
      code: -32602,
      message: 'Invalid arguments for tool "echo__add": arguments must have required property \'b\'; arguments.a must be number.',
      data: { code: 'mcp.invalid_arguments', reason: 'invalid_arguments' },
    });
    expect(echo.calls).toHaveLength(0);
    expect(await denials()).toMatchObject([{ decision: { reason: 'invalid_arguments' }, outcome: { code: 'mcp.invalid_arguments' } }]);
  });

  it('refuses an argument whose type differs from the policy schema (a cap cannot be dodged with a string)', async () => {
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const call = await h.rpc(alice, sid, 'tools/call', { name: 'export_rows', arguments: { limit: '5000' } });
    expect(call.response.error).toMatchObject({ code: -32602, message: 'Argument "limit" must be an integer (policy schema).' });
    const capped = await h.rpc(alice, sid, 'tools/call', { name: 'export_rows', arguments: { limit: 5000 } });
    expect(capped.response.error).toMatchObject({ code: -32003, data: { reason: 'export_limit', policy: 'export-cap' } });
    expect(echo.calls).toHaveLength(0);
  });

  it('takes the stated reason out of the arguments before validation, hashing and forwarding', async () => {
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const call = await h.rpc(alice, sid, 'tools/call', { name: 'add', arguments: { a: 1, b: 2, _gatehouse_reason: 'sum for the report' } });
    expect(call.response.result).toMatchObject({ content: [{ text: 'add:{"a":1,"b":2}' }] });
    expect(echo.calls[0]?.params.arguments).toEqual({ a: 1, b: 2 });
  });

  it('refuses unknown methods before the pipeline, and audits them', async () => {
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    expect((await h.rpc(alice, sid, 'admin/approve', { id: 'x' })).response.error).toMatchObject({ code: -32601, message: 'Method not found: admin/approve' });
    expect(await denials()).toMatchObject([{ outcome: { code: 'mcp.method_not_found' } }]);
  });

  it('reports the policies in force in readiness', async () => {
    const res = await h.assembly.app.request('http://127.0.0.1:8787/readyz', { headers: { host: '127.0.0.1:8787' } });
    const body = (await res.json()) as { policies: { mode: string; policies: number; folder: string } };
    expect(body.policies).toMatchObject({ mode: 'cedar', folder: STARTER_POLICIES });
    expect(body.policies.policies).toBeGreaterThanOrEqual(9);
  });
});

describe('rate limits on the request path', () => {
  it('refuses a call over the limit with retryAfterMs, audited as a denial, nothing forwarded', async () => {
    const echo = new FakeConnector('echo', [{ name: 'add' }]);
    const h = await Harness.create({ servers: { echo: { command: 'unused' } }, policies: STARTER_POLICIES, rateLimits: { tool: { burst: '2/m' } } }, [echo]);
    try {
      const alice = await h.token('alice', { groups: ['eng'] });
      const sid = await h.open(alice);
      for (let i = 0; i < 2; i++) expect((await h.rpc(alice, sid, 'tools/call', { name: 'add', arguments: {} })).response.result).toBeDefined();
      const limited = await h.rpc(alice, sid, 'tools/call', { name: 'add', arguments: {} });
      const error = limited.response.error as { code: number; message: string; data: { code: string; reason: string; limit: string; retryAfterMs: number } };
      expect(error).toMatchObject({ code: -32013, data: { code: 'rate.limited', reason: 'rate_limited', limit: 'tool.burst' } });
      expect(error.message).toMatch(/^Rate limit exceeded: at most 2 calls per minute to "echo__add" per user\. Retry after \d+ ms\.$/);
      expect(error.data.retryAfterMs).toBeGreaterThan(1000);
      expect(echo.calls).toHaveLength(2);
      await h.assembly.audit.flush();
      const denied = (await h.assembly.storage.audit.query({ kinds: ['call.denied'] })).map((r) => JSON.parse(r.body) as { decision: { reason: string } });
      expect(denied).toMatchObject([{ decision: { reason: 'rate_limited' } }]);
      // A denied call does not use up quota: bob (not allowed) is refused by policy, not by the limiter.
      const bob = await h.token('bob');
      const bobSid = await h.open(bob);
      for (let i = 0; i < 3; i++)
        expect((await h.rpc(bob, bobSid, 'tools/call', { name: 'add', arguments: {} })).response.error).toMatchObject({ data: { reason: 'not_allowed' } });
    } finally {
      await h.close();
    }
  });
});
