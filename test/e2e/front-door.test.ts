import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  cleanup,
  ECHO_SERVER,
  freePort,
  MCP_HEADERS,
  NODE,
  openRawSession,
  openSse,
  rawHttp,
  rpcMessages,
  startGateway,
  waitFor,
  type GatewayProcess,
} from '../helpers/e2e.js';

/** The MCP front door over real sockets: Host/Origin, sessions, limits, streams, metadata. */
describe('front door over real sockets', () => {
  let gw: GatewayProcess;
  let token: string;
  let nextId = 100;

  beforeAll(async () => {
    gw = await startGateway({
      config: {
        servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
        access: [{ allow: { users: ['alice'], servers: ['echo'] } }],
        limits: { maxRequestBody: '4kb' },
      },
    });
    token = await gw.token('alice');
  });
  afterAll(cleanup);

  const auth = () => ({ ...MCP_HEADERS, authorization: `Bearer ${token}` });
  const initialize = () =>
    JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
  const call = (sid: string, method: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...auth(), 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    });
  const sessionsStarted = () => auditRows(gw.dataDir).filter((r) => r.kind === 'session.start').length;
  /** No intent record mentions this marker: nothing with it reached the upstream. */
  const neverReachedUpstream = (marker: string) =>
    expect(auditRows(gw.dataDir).filter((r) => r.kind === 'call.intent' && r.rawBody.includes(marker))).toEqual([]);

  describe('Host and Origin (DNS rebinding, cross-site)', () => {
    it('refuses a foreign Origin with 403, even one on loopback at another port, and opens no session', async () => {
      const before = sessionsStarted();
      const otherPort = await freePort();
      for (const origin of [`http://127.0.0.1:${otherPort}`, `http://localhost:${gw.port}`, 'https://evil.example', 'null']) {
        const res = await rawHttp(gw.mcpUrl, { method: 'POST', headers: { ...auth(), origin }, body: initialize() });
        expect(res.status, origin).toBe(403);
        expect(res.json()).toEqual({
          jsonrpc: '2.0',
          id: null,
          error: { code: -32000, message: 'Forbidden: invalid Origin header', data: { code: 'http.invalid_origin' } },
        });
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        expect(res.headers['mcp-session-id']).toBeUndefined();
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(sessionsStarted()).toBe(before);
    });

    it('refuses a Host other than the public URL’s with 403, before authentication', async () => {
      for (const host of ['evil.example', `localhost:${gw.port}`, `127.0.0.1:${gw.port + 1}`]) {
        const res = await rawHttp(gw.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, host }, body: initialize() });
        expect(res.status, host).toBe(403);
        expect(res.json()).toMatchObject({ error: { message: 'Forbidden: invalid Host header', data: { code: 'http.invalid_host' } } });
        expect(res.headers['www-authenticate']).toBeUndefined();
      }
    });

    it('accepts its own origin and echoes it (never *), exposing the MCP headers', async () => {
      const res = await rawHttp(gw.mcpUrl, { method: 'POST', headers: { ...auth(), origin: gw.url }, body: initialize() });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(gw.url);
      expect(String(res.headers['access-control-expose-headers']).toLowerCase()).toContain('mcp-session-id');
      expect(String(res.headers['access-control-expose-headers']).toLowerCase()).toContain('www-authenticate');
    });
  });

  describe('sessions', () => {
    it('answers an unknown session id with 404 and reaches nothing', async () => {
      const marker = `unknown-${randomUUID()}`;
      const res = await call('no-such-session', 'tools/call', { name: 'echo', arguments: { text: marker } });
      expect(res.status).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: -32001, message: 'Session not found', data: { code: 'mcp.session_not_found' } } });
      neverReachedUpstream(marker);
    });

    it('DELETE /mcp ends a session: it is then unknown, and the end is audited', async () => {
      const sid = await openRawSession(gw, token);
      expect((await call(sid, 'tools/list')).status).toBe(200);
      const deleted = await rawHttp(gw.mcpUrl, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': sid } });
      expect(deleted.status).toBe(200);
      const after = await call(sid, 'tools/list');
      expect(after.status).toBe(404);
      const again = await rawHttp(gw.mcpUrl, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': sid } });
      expect(again.status).toBe(404);
      const end = await waitFor(
        () => auditRows(gw.dataDir).find((r) => r.kind === 'session.end' && (r.body.actor as { session?: string }).session === sid),
        'the session end record',
      );
      expect(end.body.reason).toBe('deleted');
    });

    it('refuses a protocol version other than the negotiated one with 400', async () => {
      const sid = await openRawSession(gw, token);
      const res = await call(sid, 'tools/list', {}, { 'mcp-protocol-version': '2024-11-05' });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ error: { data: { code: 'mcp.bad_protocol_version' } } });
    });
  });

  describe('GET /mcp', () => {
    it('opens the session’s standalone SSE stream, where upstream messages without a request arrive', async () => {
      const sid = await openRawSession(gw, token);
      const stream = await openSse(gw.mcpUrl, {
        authorization: `Bearer ${token}`,
        accept: 'text/event-stream',
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      });
      try {
        expect(stream.status).toBe(200);
        expect(stream.headers['content-type']).toBe('text/event-stream');
        expect(stream.headers['mcp-session-id']).toBe(sid);
        const second = await rawHttp(gw.mcpUrl, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-session-id': sid } });
        expect(second.status).toBe(409);

        // An upstream adding a tool concerns every session, not one request: it goes out on GET streams.
        const added = await call(sid, 'tools/call', { name: 'add_tool', arguments: { name: `via_get_${Date.now()}` } });
        expect(rpcMessages(added).at(-1)).toMatchObject({ result: { content: [{ type: 'text' }] } });
        await stream.next((e) => e.method === 'notifications/tools/list_changed', 'tools/list_changed on the GET stream');
      } finally {
        stream.close();
      }
    });

    it('sends an upstream’s log message during a call on that call’s own stream, before its result', async () => {
      const sid = await openRawSession(gw, token);
      const stream = await openSse(gw.mcpUrl, {
        authorization: `Bearer ${token}`,
        accept: 'text/event-stream',
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      });
      try {
        const logged = await call(sid, 'tools/call', { name: 'log', arguments: { message: 'during the call' } });
        expect(logged.headers['content-type']).toBe('text/event-stream');
        const messages = rpcMessages(logged);
        expect(messages.map((m) => m.method ?? 'result')).toEqual(['notifications/message', 'result']);
        expect(messages[0]).toMatchObject({ params: { level: 'info', logger: 'echo', data: 'during the call' } });
        expect(stream.events.filter((e) => e.method === 'notifications/message')).toEqual([]);
      } finally {
        stream.close();
      }
    });

    it('406 without Accept: text/event-stream', async () => {
      const sid = await openRawSession(gw, token);
      const res = await rawHttp(gw.mcpUrl, { headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'mcp-session-id': sid } });
      expect(res.status).toBe(406);
    });
  });

  describe('bad input reaches no upstream', () => {
    it('413 for a body over the limit, with or without a Content-Length', async () => {
      const sid = await openRawSession(gw, token);
      const marker = `big-${randomUUID()}`;
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: `${marker}${'x'.repeat(5000)}` } },
      });
      for (const chunked of [false, true]) {
        const res = await rawHttp(gw.mcpUrl, { method: 'POST', headers: { ...auth(), 'mcp-session-id': sid }, body, chunked });
        expect(res.status, `chunked: ${chunked}`).toBe(413);
        expect(res.json()).toMatchObject({
          error: { code: -32600, message: 'Request body too large (limit 4096 bytes)', data: { code: 'http.body_too_large' } },
        });
      }
      neverReachedUpstream(marker);
    });

    it('400 for malformed JSON and for JSON that is not JSON-RPC', async () => {
      const sid = await openRawSession(gw, token);
      const malformed = await rawHttp(gw.mcpUrl, {
        method: 'POST',
        headers: { ...auth(), 'mcp-session-id': sid },
        body: '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", ',
      });
      expect(malformed.status).toBe(400);
      expect(malformed.json()).toMatchObject({ error: { code: -32700, data: { code: 'http.parse_error' } } });
      const notRpc = await rawHttp(gw.mcpUrl, { method: 'POST', headers: { ...auth(), 'mcp-session-id': sid }, body: JSON.stringify({ hello: 'world' }) });
      expect(notRpc.status).toBe(400);
      expect(notRpc.json()).toMatchObject({ error: { code: -32600, data: { code: 'mcp.invalid_request' } } });
    });

    it('JSON-RPC errors for an unknown method and an unknown tool, recorded as refusals', async () => {
      const sid = await openRawSession(gw, token);
      const marker = `unknown-tool-${randomUUID()}`;
      const method = await call(sid, 'sampling/createMessage', { messages: [] });
      expect(rpcMessages(method)[0]).toMatchObject({ error: { code: -32601, message: 'Method not found: sampling/createMessage' } });
      const tool = await call(sid, 'tools/call', { name: 'rm_rf', arguments: { text: marker } });
      expect(rpcMessages(tool)[0]).toMatchObject({ error: { code: -32602, message: 'Unknown tool: rm_rf', data: { code: 'mcp.unknown_tool' } } });
      neverReachedUpstream(marker);
      await waitFor(() => auditRows(gw.dataDir).some((r) => r.kind === 'call.denied' && r.rawBody.includes(marker)), 'the refusal record');
    });
  });

  describe('public endpoints', () => {
    it('serves protected-resource metadata without authentication, the URL every 401 names', async () => {
      const challenge = (await rawHttp(gw.mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: initialize() })).headers['www-authenticate'];
      const url = /resource_metadata="([^"]+)"/.exec(String(challenge))?.[1];
      expect(url).toBe(`${gw.url}/.well-known/oauth-protected-resource/mcp`);
      const res = await rawHttp(url as string, { headers: { origin: 'https://any.example' } });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.json()).toMatchObject({ resource: `${gw.url}/mcp`, bearer_methods_supported: ['header'] });
    });

    it('/healthz and /readyz answer without a token; anything else is 404', async () => {
      expect((await rawHttp(`${gw.url}/healthz`)).json()).toEqual({ alive: true });
      const ready = await rawHttp(`${gw.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(ready.json()).toMatchObject({ ready: true, storage: true, audit: true, upstreams: { echo: { ready: true } } });
      expect((await rawHttp(`${gw.url}/admin`)).status).toBe(404);
    });
  });
});
