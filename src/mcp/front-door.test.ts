import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeConnector } from '../../test/helpers/fake-connector.js';
import { Harness, PUBLIC_URL } from '../../test/helpers/gateway-harness.js';

const INIT = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

describe('MCP front door', () => {
  let h: Harness;
  let echo: FakeConnector;
  let token: string;

  beforeEach(async () => {
    echo = new FakeConnector('echo', [{ name: 'say' }, { name: 'wipe', annotations: { destructiveHint: true } }], async (ctx) => {
      if (ctx.op.name === 'progress') {
        ctx.progress?.({ progress: 1, total: 2 });
        ctx.progress?.({ progress: 2, total: 2 });
      }
      return { content: [{ type: 'text', text: `${ctx.op.name}:${JSON.stringify(ctx.op.args)}` }] };
    });
    echo.catalogValue.tools.push({ name: 'progress', inputSchema: { type: 'object' } });
    h = await Harness.create(
      {
        servers: { echo: { command: 'unused' } },
        access: [{ allow: { users: ['alice'], servers: ['echo'], tools: ['echo__say', 'echo__progress'] } }, { allow: { users: ['bob'], servers: ['echo'] } }],
        limits: { maxSessionsPerUser: 2, maxRequestBody: '2kb' },
      },
      [echo],
    );
    token = await h.token('alice');
  });
  afterEach(async () => h.close());

  describe('authentication', () => {
    it('answers a request without a token with 401 and the resource metadata URL, and reaches nothing', async () => {
      const res = await h.post(undefined, INIT);
      expect(res.status).toBe(401);
      // MCP 2025-11-25: the challenge names the metadata and the scope to ask for first.
      expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp", scope="mcp"`);
      expect(await res.json()).toMatchObject({ code: 'auth.missing_token' });
      expect(h.assembly.sessions.size).toBe(0);
      expect(echo.calls).toHaveLength(0);
    });

    it('answers a bad token with invalid_token (RFC 6750) and records the failure', async () => {
      const res = await h.post('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.', INIT);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token", error_description="The access token uses an unsupported signing algorithm."/);
      expect(await h.auditKinds()).toContain('auth.failure');
    });

    it('refuses a token in the query string (tokens are only accepted in the Authorization header)', async () => {
      const res = await h.assembly.app.request(`${PUBLIC_URL}/mcp?access_token=${token}`, {
        method: 'POST',
        headers: { host: '127.0.0.1:8787', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(INIT),
      });
      expect(res.status).toBe(401);
    });

    it('serves protected-resource metadata without authentication', async () => {
      const res = await h.assembly.app.request(`${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp`);
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toMatchObject({ resource: `${PUBLIC_URL}/mcp`, bearer_methods_supported: ['header'] });
    });
  });

  describe('Host, Origin and CORS', () => {
    it('refuses a foreign Origin with 403, even one on loopback', async () => {
      const res = await h.post(token, INIT, { origin: 'http://127.0.0.1:9999' });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { data: { code: 'http.invalid_origin' } } });
      expect(h.assembly.sessions.size).toBe(0);
    });

    it('refuses a foreign Host (DNS rebinding) with 403', async () => {
      const res = await h.post(token, INIT, { host: 'evil.example:8787' });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { data: { code: 'http.invalid_host' } } });
    });

    it('allows its own origin and echoes it, never *', async () => {
      const res = await h.post(token, INIT, { origin: 'http://127.0.0.1:8787' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8787');
      expect(res.headers.get('access-control-expose-headers')).toMatch(/Mcp-Session-Id/);
      expect(res.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
    });

    it('answers a preflight from an allowed origin with the MCP headers', async () => {
      const res = await h.request('OPTIONS', { origin: 'http://127.0.0.1:8787', 'access-control-request-method': 'POST' });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization.*Mcp-Protocol-Version.*Mcp-Session-Id.*Last-Event-ID/);
    });
  });

  describe('bad input', () => {
    it('413 for an oversized body, before parsing', async () => {
      const res = await h.request(
        'POST',
        { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        undefined,
        JSON.stringify({ ...INIT, pad: 'x'.repeat(4000) }),
      );
      expect(res.status).toBe(413);
      expect(echo.calls).toHaveLength(0);
    });

    it('400 parse error for malformed JSON', async () => {
      const res = await h.request(
        'POST',
        { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        undefined,
        '{"jsonrpc":',
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: -32700 } });
    });

    it('400 invalid request for JSON that is not JSON-RPC', async () => {
      const res = await h.post(token, { hello: 'world' });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: -32600 } });
    });

    it('415 for a non-JSON content type and 406 without the required Accept', async () => {
      expect((await h.post(token, INIT, { 'content-type': 'text/plain' })).status).toBe(415);
      expect((await h.post(token, INIT, { accept: 'application/json' })).status).toBe(406);
    });

    it('400 invalid params for a malformed initialize, and no session is created', async () => {
      const res = await h.post(token, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25' } });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: -32602, data: { code: 'mcp.invalid_initialize' } } });
      expect(h.assembly.sessions.size).toBe(0);
    });

    it('503 with Retry-After once shutdown has begun, and nothing reaches the upstream', async () => {
      const sid = await h.open(token);
      h.assembly.router.draining = true;
      const res = await h.post(token, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'say', arguments: {} } }, { 'mcp-session-id': sid });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({ error: { data: { code: 'gateway.shutting_down' } } });
      expect(echo.calls).toHaveLength(0);
    });

    it('400 for a request without a session that is not initialize, 404 for an unknown session', async () => {
      expect((await h.post(token, { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(400);
      const res = await h.post(token, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': 'no-such-session' });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
      expect(echo.calls).toHaveLength(0);
    });

    it('400 already_initialized for an initialize on an open session, and nothing reaches the upstream', async () => {
      const sid = await h.open(token);
      const sessions = h.assembly.sessions.size;
      const res = await h.post(token, { ...INIT, id: 5 }, { 'mcp-session-id': sid });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        error: { code: -32600, message: 'Invalid Request: session already initialized', data: { code: 'mcp.already_initialized' } },
      });
      expect(h.assembly.sessions.size).toBe(sessions);
      expect(echo.calls).toHaveLength(0);
      // An ordinary call on the same session is not mistaken for one.
      const call = await h.rpc(token, sid, 'tools/call', { name: 'say', arguments: { text: 'hi' } });
      expect(call.response).toMatchObject({ result: { content: [{ type: 'text', text: 'say:{"text":"hi"}' }] } });
      expect(echo.calls).toEqual([{ method: 'tools/call', params: { name: 'say', arguments: { text: 'hi' } }, sub: 'alice' }]);
    });

    it('refuses JSON-RPC batches on 2025-06-18 and later', async () => {
      const sid = await h.open(token);
      const res = await h.post(token, [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }], { 'mcp-session-id': sid });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { data: { code: 'mcp.batch_not_supported' } } });
    });
  });

  describe('sessions', () => {
    it('issues a 256-bit random session id bound to the user: another user gets 404', async () => {
      const sid = await h.open(token);
      expect(Buffer.from(sid, 'base64url')).toHaveLength(32);
      const bob = await h.token('bob');
      const res = await h.rpc(bob, sid, 'tools/list');
      expect(res.status).toBe(404);
    });

    it('negotiates: an unknown requested version gets 2025-11-25; older supported versions are kept', async () => {
      const r1 = await h.post(token, { ...INIT, params: { ...INIT.params, protocolVersion: '2024-11-05' } });
      expect(((await r1.json()) as { result: { protocolVersion: string } }).result.protocolVersion).toBe('2025-11-25');
      const r2 = await h.post(token, { ...INIT, params: { ...INIT.params, protocolVersion: '2025-03-26' } });
      expect(((await r2.json()) as { result: { protocolVersion: string } }).result.protocolVersion).toBe('2025-03-26');
    });

    it('400 for an MCP-Protocol-Version other than the negotiated one', async () => {
      const sid = await h.open(token);
      const res = await h.rpc(token, sid, 'tools/list', {}, { 'mcp-protocol-version': '2099-01-01' });
      expect(res.status).toBe(400);
    });

    it('DELETE ends a session; it is then unknown', async () => {
      const sid = await h.open(token);
      const del = await h.request('DELETE', { authorization: `Bearer ${token}`, 'mcp-session-id': sid });
      expect(del.status).toBe(200);
      expect((await h.rpc(token, sid, 'tools/list')).status).toBe(404);
    });

    it('caps sessions per user, evicting the least recently active', async () => {
      const first = await h.open(token);
      const second = await h.open(token);
      await h.rpc(token, first, 'tools/list');
      const third = await h.open(token);
      expect(h.assembly.sessions.forUser('alice').size).toBe(2);
      expect((await h.rpc(token, second, 'tools/list')).status).toBe(404);
      expect((await h.rpc(token, first, 'tools/list')).status).toBe(200);
      expect((await h.rpc(token, third, 'tools/list')).status).toBe(200);
    });
  });

  describe('calls', () => {
    it('lists only permitted tools and answers a plain call as application/json', async () => {
      const sid = await h.open(token);
      const list = await h.rpc(token, sid, 'tools/list');
      expect(list.contentType).toMatch(/application\/json/);
      expect((list.response.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(['say', 'progress']);
      const call = await h.rpc(token, sid, 'tools/call', { name: 'say', arguments: { text: 'hi' } });
      expect(call.response).toMatchObject({ result: { content: [{ type: 'text', text: 'say:{"text":"hi"}' }] } });
      expect(echo.calls).toEqual([{ method: 'tools/call', params: { name: 'say', arguments: { text: 'hi' } }, sub: 'alice' }]);
    });

    it('refuses a hidden tool called by name with a reason id, records it, and never forwards it', async () => {
      const sid = await h.open(token);
      const call = await h.rpc(token, sid, 'tools/call', { name: 'wipe', arguments: {} });
      expect(call.response).toMatchObject({
        error: { code: -32003, message: 'You are not allowed to call the tool "echo__wipe".', data: { code: 'policy.denied', reason: 'not_allowed' } },
      });
      expect(echo.calls).toHaveLength(0);
      expect(await h.auditKinds()).toContain('call.denied');
      expect(await h.auditKinds()).not.toContain('call.intent');
    });

    it('refuses unknown tools and methods with JSON-RPC errors and records both', async () => {
      const sid = await h.open(token);
      expect((await h.rpc(token, sid, 'tools/call', { name: 'nope', arguments: {} })).response).toMatchObject({
        error: { code: -32602, message: 'Unknown tool: nope' },
      });
      expect((await h.rpc(token, sid, 'tasks/list')).response).toMatchObject({ error: { code: -32601, message: 'Method not found: tasks/list' } });
      await h.assembly.audit.flush();
      const codes = (await h.assembly.storage.audit.query({ kinds: ['call.denied'] })).map(
        (r) => (JSON.parse(r.body) as { outcome: { code: string } }).outcome.code,
      );
      expect(codes).toEqual(['mcp.unknown_tool', 'mcp.method_not_found']);
      expect(echo.calls).toHaveLength(0);
    });

    it('switches to an SSE stream when progress must go out before the result', async () => {
      const sid = await h.open(token);
      const call = await h.rpc(token, sid, 'tools/call', { name: 'progress', arguments: {}, _meta: { progressToken: 'p1' } });
      expect(call.contentType).toMatch(/text\/event-stream/);
      expect(call.messages.map((m) => m.method ?? 'result')).toEqual(['notifications/progress', 'notifications/progress', 'result']);
      expect(call.messages[0]).toMatchObject({ params: { progressToken: 'p1', progress: 1, total: 2 } });
    });

    it('writes the intent durably before the upstream call and the result after', async () => {
      const sid = await h.open(token);
      let intentsAtCall = -1;
      echo.handler = async () => {
        intentsAtCall = (await h.assembly.storage.audit.query({ kinds: ['call.intent'] })).length;
        return { content: [] };
      };
      await h.rpc(token, sid, 'tools/call', { name: 'say', arguments: { password: 'p@ss-123', text: 'x' } });
      expect(intentsAtCall).toBe(1);
      await h.assembly.audit.flush();
      const [intent] = await h.assembly.storage.audit.query({ kinds: ['call.intent'] });
      const body = JSON.parse(intent?.body ?? '{}');
      expect(body).toMatchObject({
        actor: { sub: 'alice' },
        method: 'tools/call',
        target: { server: 'echo', tool: 'echo__say' },
        args: { password: '[REDACTED]', text: 'x' },
        decision: { effect: 'allow' },
      });
      expect(intent?.body).not.toContain('p@ss-123');
      expect(body.argsHash).toMatch(/^sha256:/);
    });

    it('ends the POST of a cancelled request (which gets no response) instead of leaving it open', async () => {
      const sid = await h.open(token);
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      echo.handler = (ctx) =>
        new Promise((_resolve, reject) => {
          started();
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
        });
      const pending = h.post(token, { jsonrpc: '2.0', id: 77, method: 'tools/call', params: { name: 'say', arguments: {} } }, { 'mcp-session-id': sid });
      await running;
      const session = h.assembly.sessions.get(sid);
      expect(session?.transport.pendingRequests).toBe(1);
      const cancel = await h.post(
        token,
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 77, reason: 'user' } },
        { 'mcp-session-id': sid },
      );
      expect(cancel.status).toBe(202);
      const res = await pending;
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      expect(await res.text()).toBe('');
      expect(session?.transport.pendingRequests).toBe(0);
      expect(await h.assembly.sessions.drain(1000)).toBe(true);
    });

    it('drains: resolves once every accepted request has its response written, false on timeout', async () => {
      const sid = await h.open(token);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      echo.handler = async () => {
        await gate;
        return { content: [{ type: 'text', text: 'done' }] };
      };
      const pending = h.rpc(token, sid, 'tools/call', { name: 'say', arguments: {} });
      await vi.waitFor(() => expect(echo.calls).toHaveLength(1));
      expect(await h.assembly.sessions.drain(50)).toBe(false);
      const drained = h.assembly.sessions.drain(5000);
      release();
      expect(await drained).toBe(true);
      expect((await pending).response).toMatchObject({ result: { content: [{ text: 'done' }] } });
    });

    it('refuses the call when the intent record cannot be written (fail closed)', async () => {
      const sid = await h.open(token);
      (h.assembly.storage as unknown as { sql: { db: { exec(s: string): void } } }).sql.db.exec(
        "CREATE TRIGGER nope BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
      );
      const call = await h.rpc(token, sid, 'tools/call', { name: 'say', arguments: {} });
      expect(call.response).toMatchObject({ error: { code: -32012, data: { code: 'audit.unavailable' } } });
      expect(echo.calls).toHaveLength(0);
    });
  });
});
