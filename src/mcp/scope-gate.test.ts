import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeConnector } from '../../test/helpers/fake-connector.js';
import { Harness, PUBLIC_URL } from '../../test/helpers/gateway-harness.js';

describe('token reach at the front door and in the pipeline', () => {
  let h: Harness;
  let echo: FakeConnector;
  let db: FakeConnector;

  beforeEach(async () => {
    echo = new FakeConnector('echo', [{ name: 'say' }]);
    db = new FakeConnector('db', [{ name: 'query' }, { name: 'drop' }]);
    h = await Harness.create({ servers: { echo: { command: 'x' }, db: { command: 'x' } }, access: [{ allow: { users: ['alice'], servers: ['*'] } }] }, [
      echo,
      db,
    ]);
  });
  afterEach(async () => h.close());

  it('refuses a token without the base scope with a step-up challenge, before any session exists', async () => {
    const token = await h.token('alice', { scope: 'server:echo' });
    const res = await h.post(token, {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", scope="server:echo mcp", resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp", error_description="This token lacks the \\"mcp\\" scope."`,
    );
    expect(h.assembly.sessions.size).toBe(0);
  });

  it('a purpose-bound token lists only what it reaches and gets a 403 challenge for the rest; nothing is forwarded', async () => {
    const token = await h.token('alice', { scope: 'mcp server:echo tool:db__query' });
    const sid = await h.open(token);
    const list = await h.rpc(token, sid, 'tools/list');
    expect((list.response.result as { tools: { name: string }[] }).tools.map((t) => t.name).sort()).toEqual(['db__query', 'echo__say']);
    expect((await h.rpc(token, sid, 'tools/call', { name: 'db__query', arguments: {} })).status).toBe(200);
    const denied = await h.rpc(token, sid, 'tools/call', { name: 'db__drop', arguments: {} });
    expect(denied.status).toBe(403);
    expect(denied.response).toMatchObject({
      id: expect.any(Number),
      error: { code: -32003, data: { code: 'auth.insufficient_scope', scope: 'mcp server:echo tool:db__query tool:db__drop' } },
    });
    expect(db.calls.map((c) => c.params.name)).toEqual(['query']);
    expect(await h.auditKinds()).toContain('call.denied');
  });

  it('an unrestricted token skips the lookup; policy still decides', async () => {
    const token = await h.token('alice');
    const sid = await h.open(token);
    expect((await h.rpc(token, sid, 'tools/call', { name: 'db__drop', arguments: {} })).status).toBe(200);
  });

  it('enforces authorization_details argument bounds in the pipeline, as an audited JSON-RPC denial', async () => {
    const token = await h.token('alice', {
      authorizationDetails: [{ type: 'gatehouse_tool_call', server: 'db', tool: 'query', arguments: { limit: { maximum: 10 } } }],
    });
    const sid = await h.open(token);
    expect((await h.rpc(token, sid, 'tools/call', { name: 'db__query', arguments: { limit: 3 } })).response.result).toBeDefined();
    const over = await h.rpc(token, sid, 'tools/call', { name: 'db__query', arguments: { limit: 11 } });
    expect(over.status).toBe(200);
    expect(over.response).toMatchObject({ error: { code: -32003, data: { reason: 'authorization_details' } } });
    expect(db.calls).toHaveLength(1);
    await h.assembly.audit.flush();
    const denials = await h.assembly.storage.audit.query({ kinds: ['call.denied'], limit: 10 });
    expect(JSON.parse(denials.at(-1)!.body)).toMatchObject({ decision: { effect: 'deny', reason: 'authorization_details' }, target: { tool: 'db__query' } });
  });

  it('refuses a DPoP-bound token presented as a bearer token', async () => {
    const token = await h.token('alice', { extraClaims: { cnf: { jkt: 'some-thumbprint' } } });
    const res = await h.post(token, {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^DPoP algs="EdDSA Ed25519 ES256 ES384 PS256 RS256", resource_metadata=".*", error="invalid_token"/);
    expect(await res.json()).toMatchObject({ code: 'auth.dpop_required' });
  });
});
