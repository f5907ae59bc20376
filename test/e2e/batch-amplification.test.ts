import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, cleanup, ECHO_SERVER, MCP_HEADERS, NODE, rawHttp, rpcMessages, startGateway, waitFor, type GatewayProcess } from '../helpers/e2e.js';

/**
 * Amplification through the front door: one request must not turn into unbounded work or
 * unbounded audit records, and the gateway must keep answering others while it is flooded.
 */
describe('batch and flood amplification', () => {
  let gw: GatewayProcess;
  let mallory: string;
  let alice: string;

  beforeAll(async () => {
    gw = await startGateway({
      config: {
        servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
        access: [{ allow: { users: ['alice'], servers: ['echo'] } }],
        limits: { maxRequestBody: '2mb' },
      },
    });
    [mallory, alice] = await Promise.all([gw.token('mallory'), gw.token('alice')]);
  });
  afterAll(cleanup);

  /** A session on MCP 2025-03-26, the last revision with JSON-RPC batches. */
  async function session(token: string): Promise<{ headers: Record<string, string> }> {
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${token}` };
    const init = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'flood', version: '1' } },
      }),
    });
    expect(init.status).toBe(200);
    const sid = init.headers['mcp-session-id'] as string;
    const withSession = { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-03-26' };
    expect(
      (await rawHttp(gw.mcpUrl, { method: 'POST', headers: withSession, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) }))
        .status,
    ).toBe(202);
    return { headers: withSession };
  }

  const rowsOf = (sub: string) => auditRows(gw.dataDir).filter((r) => r.body.actor?.sub === sub);

  it('a 20,000-message batch of tools/list is refused at once with one error; nothing runs, nothing is recorded', async () => {
    const { headers } = await session(mallory);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = auditRows(gw.dataDir).length;
    const body = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'tools/list' })));
    expect(body.length).toBeGreaterThan(800_000);
    const started = Date.now();
    const res = await rawHttp(gw.mcpUrl, { method: 'POST', headers, body });
    // Generous: the reported attack blocked the gateway for seconds.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: 'Invalid Request: a batch may hold at most 32 messages; this one holds 20000. Nothing in it was processed.',
        data: { code: 'mcp.batch_too_large' },
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(auditRows(gw.dataDir).length - before).toBeLessThanOrEqual(1);
  });

  it('a batch at the cap is answered in full', async () => {
    const { headers } = await session(alice);
    const res = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify(
        Array.from({ length: 32 }, (_, i) =>
          i % 2
            ? { jsonrpc: '2.0', id: i, method: 'tools/list' }
            : { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'add', arguments: { a: i, b: 1 } } },
        ),
      ),
    });
    expect(res.status).toBe(200);
    // A plain JSON array of responses, or (had anything gone out first) an event stream of them.
    const messages = String(res.headers['content-type']).startsWith('application/json')
      ? (JSON.parse(res.body) as Record<string, unknown>[])
      : rpcMessages(res);
    expect(messages.map((m) => m.id).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(messages.every((m) => m.result !== undefined)).toBe(true);
    expect(messages.find((m) => m.id === 4)?.result).toEqual({ content: [{ type: 'text', text: '5' }] });
  });

  it('a flood of lists from a user with no permissions is rate-limited (-32013), the audit grows by O(1), /healthz keeps answering', async () => {
    const { headers } = await session(mallory);
    const before = rowsOf('mallory').length;
    const codes: (number | 'ok')[] = [];
    let nextId = 100;
    const flood = (async () => {
      for (let round = 0; round < 25; round++) {
        const batch = Array.from({ length: 32 }, () => ({ jsonrpc: '2.0', id: nextId++, method: 'tools/list' }));
        const res = await rawHttp(gw.mcpUrl, { method: 'POST', headers, body: JSON.stringify(batch) });
        for (const m of JSON.parse(res.body) as { result?: unknown; error?: { code: number } }[]) codes.push(m.error ? m.error.code : 'ok');
      }
    })();
    const health: number[] = [];
    const probes = (async () => {
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const res = await fetch(`${gw.url}/healthz`);
        expect(res.status).toBe(200);
        health.push(Date.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await Promise.all([flood, probes]);
    expect(codes).toHaveLength(800);
    expect(codes.filter((c) => c === -32013).length).toBeGreaterThan(600);
    expect(codes.every((c) => c === 'ok' || c === -32013)).toBe(true);
    // Generous bound: the event loop was never blocked for long.
    expect(Math.max(...health)).toBeLessThan(2000);
    // Coalesced records are written when their window closes (5 s).
    await waitFor(() => rowsOf('mallory').some((r) => r.body.outcome?.code === 'rate.limited'), 'the coalesced rate-limit record', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const added = rowsOf('mallory').slice(before);
    expect(added.length).toBeLessThanOrEqual(10);
    const counted = added.reduce((n, r) => n + Number((r.body as { count?: number }).count ?? 0), 0);
    expect(counted).toBe(800);
  });
});
