import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODERN_METHODS } from '../../src/mcp/stateless/methods.js';
import { auditRows, cleanup, ECHO_SERVER, MCP_HEADERS, NODE, openRawSession, rawHttp, rpcMessages, startGateway, type GatewayProcess } from '../helpers/e2e.js';

const MODERN = '2026-07-28';
const meta = (extra: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
  ...extra,
});

/** Both eras on one /mcp: stateless 2026-07-28 requests beside 2025 sessions, under the same controls. */
describe('MCP 2026-07-28 (stateless) beside the session era', () => {
  let gw: GatewayProcess;
  let alice: string;
  let bob: string;
  let nextId = 1;

  beforeAll(async () => {
    gw = await startGateway({
      config: {
        servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
        access: [{ allow: { users: ['alice'], servers: ['echo'] } }],
      },
    });
    alice = await gw.token('alice');
    bob = await gw.token('bob');
  });
  afterAll(cleanup);

  /** A modern request with correct metadata headers, unless `headers` overrides them. */
  const modern = (token: string, method: string, params: Record<string, unknown> = {}, headers: Record<string, string | undefined> = {}) => {
    const name = (params.name ?? params.uri) as string | undefined;
    const all: Record<string, string | undefined> = {
      ...MCP_HEADERS,
      authorization: `Bearer ${token}`,
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(name === undefined ? {} : { 'mcp-name': name }),
      ...headers,
    };
    const sent = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: sent,
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: meta(params._meta as Record<string, unknown>) } }),
    });
  };
  const intentsWith = (marker: string) => auditRows(gw.dataDir).filter((r) => r.kind === 'call.intent' && r.rawBody.includes(marker));

  it('answers server/discover without a session: versions, capabilities, identity, caching hints', async () => {
    const res = await modern(alice, 'server/discover');
    expect(res.status).toBe(200);
    expect(res.headers['mcp-session-id']).toBeUndefined();
    const [message] = rpcMessages(res);
    const result = message?.result as Record<string, unknown>;
    expect(result.resultType).toBe('complete');
    expect(result.supportedVersions).toEqual([MODERN]);
    // List changes travel only on subscriptions/listen in this revision: claimed only when it is served.
    const listen = MODERN_METHODS.has('subscriptions/listen');
    expect(result.capabilities).toMatchObject({ tools: listen ? { listChanged: true } : {}, prompts: {}, completions: {} });
    if (!listen) expect(result.capabilities).toEqual({ tools: {}, resources: {}, prompts: {}, completions: {} });
    expect((result.capabilities as Record<string, unknown>).logging).toBeUndefined();
    expect((result._meta as Record<string, { name: string }>)['io.modelcontextprotocol/serverInfo']?.name).toBe('gatehouse');
    expect(result.cacheScope).toBe('private');
    expect(result.ttlMs).toBeGreaterThanOrEqual(0);
  });

  it('lists and calls tools statelessly, filtered and audited like a session request', async () => {
    const list = rpcMessages(await modern(alice, 'tools/list'))[0]?.result as { tools: { name: string }[]; cacheScope: string; resultType: string };
    expect(list.resultType).toBe('complete');
    expect(list.cacheScope).toBe('private');
    expect(list.tools.map((t) => t.name)).toContain('echo');

    const marker = `stateless-${Date.now()}`;
    const res = await modern(alice, 'tools/call', { name: 'echo', arguments: { text: marker } });
    expect(res.status).toBe(200);
    expect(res.headers['mcp-session-id']).toBeUndefined();
    const result = rpcMessages(res)[0]?.result as { content: { text: string }[]; resultType: string };
    expect(result.resultType).toBe('complete');
    expect(JSON.stringify(result.content)).toContain(marker);
    const [intent] = intentsWith(marker);
    expect(intent).toBeDefined();
    expect(intent?.body.actor).toMatchObject({ sub: 'alice' });
    // The protocol's own _meta keys describe this hop; they are not forwarded upstream.
    expect(intent?.rawBody).not.toContain('io.modelcontextprotocol/clientInfo');
  });

  it('applies the same policy: bob sees no tools and his call is denied without reaching the upstream', async () => {
    const list = rpcMessages(await modern(bob, 'tools/list'))[0]?.result as { tools: unknown[] };
    expect(list.tools).toEqual([]);
    const marker = `bob-${Date.now()}`;
    const res = await modern(bob, 'tools/call', { name: 'echo', arguments: { text: marker } });
    const error = rpcMessages(res)[0]?.error as { code: number; data: { code: string } };
    expect(error.code).toBe(-32003);
    expect(intentsWith(marker)).toEqual([]);
  });

  it('keeps concurrent requests of one caller apart even when their clients chose the same id', async () => {
    const send = (text: string) =>
      rawHttp(gw.mcpUrl, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 42, method: 'tools/call', params: { name: 'echo', arguments: { text }, _meta: meta() } }),
      });
    const texts = Array.from({ length: 12 }, (_, i) => `same-id-${i}-${Date.now()}`);
    const answers = await Promise.all(texts.map(send));
    answers.forEach((res, i) => {
      expect(res.status).toBe(200);
      const [message] = rpcMessages(res);
      expect(message?.id).toBe(42);
      expect(JSON.stringify(message?.result)).toContain(texts[i]);
    });
  });

  it('ignores a client-chosen Mcp-Session-Id: a stateless request is bound to its token, never to another session', async () => {
    const aliceSession = await openRawSession(gw, alice);
    const marker = `hijack-${Date.now()}`;
    const res = await modern(bob, 'tools/call', { name: 'echo', arguments: { text: marker } }, { 'mcp-session-id': aliceSession });
    expect((rpcMessages(res)[0]?.error as { code: number }).code).toBe(-32003);
    expect(intentsWith(marker)).toEqual([]);
  });

  describe('request metadata headers are checked against the body (-32020 HeaderMismatch, 400)', () => {
    const cases: [string, Record<string, string | undefined>][] = [
      ['missing MCP-Protocol-Version', { 'mcp-protocol-version': undefined }],
      ['missing Mcp-Method', { 'mcp-method': undefined }],
      ['Mcp-Method naming another method', { 'mcp-method': 'tools/list' }],
      ['missing Mcp-Name', { 'mcp-name': undefined }],
      ['Mcp-Name naming another tool', { 'mcp-name': 'add' }],
      ['Mcp-Name differing only in case', { 'mcp-name': 'ECHO' }],
      ['Mcp-Name in a malformed base64 sentinel', { 'mcp-name': '=?base64?not base64?=' }],
      ['Mcp-Name in base64 of another tool', { 'mcp-name': `=?base64?${Buffer.from('add').toString('base64')}?=` }],
    ];
    for (const [label, headers] of cases) {
      it(`refuses ${label}, and nothing reaches the upstream`, async () => {
        const marker = `hdr-${label.replace(/\W+/g, '-')}-${Date.now()}`;
        const res = await modern(alice, 'tools/call', { name: 'echo', arguments: { text: marker } }, headers);
        expect(res.status).toBe(400);
        const error = JSON.parse(res.body).error as { code: number; message: string; data: { code: string } };
        expect(error.code).toBe(-32020);
        expect(error.message).toMatch(/^Header mismatch/);
        expect(error.data.code).toBe('mcp.header_mismatch');
        expect(intentsWith(marker)).toEqual([]);
      });
    }

    it('accepts Mcp-Name in the base64 sentinel form when it decodes to the body value', async () => {
      const marker = `b64-${Date.now()}`;
      const res = await modern(
        alice,
        'tools/call',
        { name: 'echo', arguments: { text: marker } },
        { 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` },
      );
      expect(res.status).toBe(200);
      expect(intentsWith(marker)).toHaveLength(1);
    });
  });

  it('relays an upstream log message only to a request that asked for it, at or above its level', async () => {
    const logsOf = (res: Awaited<ReturnType<typeof modern>>) =>
      rpcMessages(res)
        .filter((m) => m.method === 'notifications/message')
        .map((m) => (m.params as { data: unknown }).data);
    const plain = await modern(alice, 'tools/call', { name: 'log', arguments: { message: 'unasked' } });
    expect(rpcMessages(plain).at(-1)?.result).toMatchObject({ content: [{ text: 'logged' }] });
    expect(logsOf(plain)).toEqual([]);
    const above = await modern(alice, 'tools/call', {
      name: 'log',
      arguments: { message: 'too quiet' },
      _meta: { 'io.modelcontextprotocol/logLevel': 'error' },
    });
    expect(logsOf(above)).toEqual([]);
    const asked = await modern(alice, 'tools/call', {
      name: 'log',
      arguments: { message: 'asked for' },
      _meta: { 'io.modelcontextprotocol/logLevel': 'debug' },
    });
    expect(logsOf(asked)).toEqual(['asked for']);
    expect(rpcMessages(asked).at(-1)?.result).toMatchObject({ content: [{ text: 'logged' }] });
  });

  it('answers an unsupported version with -32022 and the versions it speaks statelessly (as server/discover lists them)', async () => {
    const res = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}`, 'mcp-protocol-version': '1900-01-01', 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '1900-01-01' } } }),
    });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body) as { id: number; error: { code: number; data: { supported: string[]; requested: string } } };
    expect(body.id).toBe(7);
    expect(body.error.code).toBe(-32022);
    expect(body.error.data.supported).toEqual([MODERN]);
    expect(body.error.data.requested).toBe('1900-01-01');
  });

  it('refuses batches, initialize, GET and DELETE in the stateless revision', async () => {
    const batch = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
      body: JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta() } }]),
    });
    expect(batch.status).toBe(400);
    expect(JSON.parse(batch.body).error.code).toBe(-32600);
    const init = await modern(alice, 'initialize', { protocolVersion: MODERN, capabilities: {}, clientInfo: { name: 'x', version: '1' } });
    expect(init.status).toBe(404);
    expect(JSON.parse(init.body).error.code).toBe(-32601);
    for (const method of ['GET', 'DELETE']) {
      const res = await rawHttp(gw.mcpUrl, { method, headers: { ...MCP_HEADERS, authorization: `Bearer ${alice}`, 'mcp-protocol-version': MODERN } });
      expect(res.status).toBe(405);
    }
  });

  it('still authenticates every stateless request: no token is a 401 with the resource metadata challenge', async () => {
    const res = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta() } }),
    });
    expect(res.status).toBe(401);
    expect(String(res.headers['www-authenticate'])).toContain('resource_metadata=');
  });

  it('serves the official 2.x client (stateless) and the 1.x client (session) on the same gateway', async () => {
    const modernClient = new Client({ name: 'sdk-2', version: '2.4.0' }, { versionNegotiation: { mode: 'auto' } });
    await modernClient.connect(new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }));
    const modernResult = await modernClient.callTool({ name: 'echo', arguments: { text: 'from-sdk-2' } });
    expect(JSON.stringify(modernResult.content)).toContain('from-sdk-2');
    // The client negotiated the stateless revision: its call is recorded under 2026-07-28.
    const modernIntent = auditRows(gw.dataDir).filter((r) => r.kind === 'call.intent' && r.rawBody.includes('from-sdk-2'));
    expect(modernIntent).toHaveLength(1);
    await modernClient.close();

    const legacyClient = new LegacyClient({ name: 'sdk-1', version: '1' });
    const legacyTransport = new LegacyTransport(new URL(gw.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${alice}` } } });
    await legacyClient.connect(legacyTransport);
    expect(legacyTransport.sessionId).toBeTruthy();
    const legacyResult = await legacyClient.callTool({ name: 'echo', arguments: { text: 'from-sdk-1' } });
    expect(JSON.stringify(legacyResult.content)).toContain('from-sdk-1');
    await legacyClient.close();

    const starts = auditRows(gw.dataDir)
      .filter((r) => r.kind === 'session.start')
      .map((r) => (r.body as { protocolVersion: string }).protocolVersion);
    expect(starts).toContain(MODERN);
    expect(starts).toContain('2025-11-25');
  });

  it('session era: a supported MCP-Protocol-Version other than the negotiated one is valid; the session decides the rules', async () => {
    const sid = await openRawSession(gw, alice);
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${alice}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-03-26' };
    const one = await rawHttp(gw.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) });
    expect(one.status).toBe(200);
    // The session negotiated 2025-11-25, which has no batches, whatever the header says.
    const batch = await rawHttp(gw.mcpUrl, { method: 'POST', headers, body: JSON.stringify([{ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }]) });
    expect(batch.status).toBe(400);
    expect(JSON.parse(batch.body).error.data.code).toBe('mcp.batch_not_supported');
    const unknown = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...headers, 'mcp-protocol-version': '2024-01-01' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }),
    });
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body).error.data.code).toBe('mcp.bad_protocol_version');
  });
});
