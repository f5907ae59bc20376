import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../config/index.js';
import { FakeConnector } from '../../test/helpers/fake-connector.js';
import { Harness } from '../../test/helpers/gateway-harness.js';

const list = (id: number, method = 'tools/list') => ({ jsonrpc: '2.0', id, method });

/** Batches, per-request rate limits and coalesced list records, in process. */
describe('front door: batches and floods', () => {
  let h: Harness;
  let echo: FakeConnector;
  afterEach(async () => h.close());

  async function setup(extra: Partial<ConfigInput> = {}) {
    echo = new FakeConnector('echo', [{ name: 'say' }]);
    h = await Harness.create({ servers: { echo: { command: 'unused' } }, access: [{ allow: { users: ['alice'], servers: ['echo'] } }], ...extra }, [echo]);
  }

  const rows = async () => {
    await h.assembly.audit.flush();
    return (await h.assembly.storage.audit.query({ limit: 100_000 })).map((r) => ({ kind: r.kind, body: JSON.parse(r.body) as Record<string, any> }));
  };

  it('refuses a batch over limits.maxBatch whole, before parsing any of it: one error, nothing run, nothing recorded', async () => {
    await setup({ limits: { maxBatch: 4 } });
    const token = await h.token('alice');
    const sid = await h.open(token, '2025-03-26');
    const before = (await rows()).length;
    // Five messages, the last not even JSON-RPC: the size alone decides.
    const res = await h.post(
      token,
      [list(1), list(2), { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'say', arguments: {} } }, list(4), { nonsense: true }],
      { 'mcp-session-id': sid },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: 'Invalid Request: a batch may hold at most 4 messages; this one holds 5. Nothing in it was processed.',
        data: { code: 'mcp.batch_too_large' },
      },
    });
    expect(echo.calls).toHaveLength(0);
    h.assembly.router.flushAudit();
    expect((await rows()).length).toBe(before);
  });

  it('answers a batch at the cap, one response per request', async () => {
    await setup({ limits: { maxBatch: 4 } });
    const token = await h.token('alice');
    const sid = await h.open(token, '2025-03-26');
    const res = await h.post(
      token,
      [list(1), { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'say', arguments: { a: 1 } } }, list(3, 'prompts/list'), list(4)],
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-03-26' },
    );
    expect(res.status).toBe(200);
    // JSON-RPC 2.0 §6: batch responses come in any order; the ids tell them apart.
    const body = ((await res.json()) as { id: number; result?: Record<string, unknown> }[]).sort((a, b) => a.id - b.id);
    expect(body.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect(body[1]?.result).toEqual({ content: [{ type: 'text', text: 'say:{"a":1}' }] });
    // The two tools/list of one batch make one record, with their count.
    h.assembly.router.flushAudit();
    const lists = (await rows()).filter((r) => r.kind === 'list');
    expect(lists.map((r) => [r.body.method, r.body.count])).toEqual([
      ['tools/list', 2],
      ['prompts/list', 1],
    ]);
  });

  it('refuses any batch, even of one, on sessions negotiated at 2025-06-18 or later, before the scope gate looks at it', async () => {
    await setup();
    // A purpose-bound token that does not reach the tool: the scope gate would answer 403 if it looked first.
    const token = await h.token('alice', { scope: 'mcp tool:echo__other' });
    for (const version of ['2025-06-18', '2025-11-25']) {
      const sid = await h.open(token, version);
      const res = await h.post(token, [{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'say', arguments: {} } }], { 'mcp-session-id': sid });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: -32600, data: { code: 'mcp.batch_not_supported' } } });
    }
    expect(echo.calls).toHaveLength(0);
  });

  it('a flood of lists from a user with no permissions: rate-limited with -32013, and O(1) audit records', async () => {
    // Per-minute windows: the test takes longer than a second.
    await setup({ rateLimits: { user: { burst: '10/m' }, tool: { burst: '5/m' }, client: {} } });
    const mallory = await h.token('mallory');
    const sid = await h.open(mallory);
    const before = (await rows()).length;
    const codes: unknown[] = [];
    for (let i = 0; i < 300; i++) {
      const { response } = await h.rpc(mallory, sid, i % 2 ? 'tools/list' : 'bogus/method');
      codes.push((response.error as { code?: number } | undefined)?.code ?? 'ok');
    }
    // 10 requests pass the user limit: the lists among them answer (an empty list), the unknown methods are refused.
    expect(codes.filter((c) => c === 'ok').length).toBe(5);
    expect(codes.filter((c) => c === -32601).length).toBe(5);
    expect(codes.filter((c) => c === -32013).length).toBe(290);
    h.assembly.router.flushAudit();
    const added = (await rows()).slice(before);
    // One record per kind of outcome, whatever the number of requests.
    expect(added.length).toBeLessThanOrEqual(8);
    const limited = added.filter((r) => r.body.outcome?.code === 'rate.limited');
    expect(limited.reduce((n, r) => n + (r.body.count as number), 0)).toBe(290);
    expect(limited.every((r) => r.kind === 'call.denied' && r.body.decision?.reason === 'rate_limited')).toBe(true);
    expect(added.find((r) => r.kind === 'list')?.body).toMatchObject({ method: 'tools/list', count: 5, actor: { sub: 'mallory' } });
    // Unknown methods keep one record each: only as many as the limit let through.
    expect(added.filter((r) => r.body.outcome?.code === 'mcp.method_not_found')).toHaveLength(5);
  });

  it('lists have their own per-user limit per method, so a list flood cannot use up the user limit for calls', async () => {
    await setup({ rateLimits: { user: { burst: '100/m' }, tool: { burst: '3/m' }, client: {} } });
    const alice = await h.token('alice');
    const sid = await h.open(alice);
    const results = [];
    for (let i = 0; i < 6; i++) results.push((await h.rpc(alice, sid, 'tools/list')).response);
    expect(results.map((r) => (r.error as { code?: number } | undefined)?.code ?? 'ok')).toEqual(['ok', 'ok', 'ok', -32013, -32013, -32013]);
    expect((results[3]?.error as { message: string }).message).toMatch(/at most 3 calls per minute to "tools\/list" per user/);
    expect((await h.rpc(alice, sid, 'prompts/list')).response.result).toEqual({ prompts: [] });
    expect((await h.rpc(alice, sid, 'tools/call', { name: 'say', arguments: {} })).response.result).toBeDefined();
  });
});
