import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, cleanup, startGateway, waitFor, type GatewayProcess } from '../helpers/policy-e2e.js';

const ACCESS = [{ allow: { groups: ['eng'], servers: ['echo'] } }];
const JSON_RPC = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** initialize + tools/call on one session, with extra headers on every request; the call's JSON-RPC result or error. */
async function callEcho(gw: GatewayProcess, token: string, extra: Record<string, string>): Promise<{ status: number; body: string }> {
  const headers = { ...JSON_RPC, authorization: `Bearer ${token}`, ...extra };
  const init = await fetch(`${gw.url}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'ip-test', version: '1' } },
    }),
  });
  const sid = init.headers.get('mcp-session-id');
  const initBody = await init.text();
  if (!sid) return { status: init.status, body: initBody };
  const session = { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
  await (
    await fetch(`${gw.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
  ).text();
  const res = await fetch(`${gw.url}/mcp`, {
    method: 'POST',
    headers: session,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }),
  });
  return { status: res.status, body: await res.text() };
}

const ipsOf = (gw: GatewayProcess, kind: string) =>
  auditRows(gw.dataDir)
    .filter((r) => r.kind === kind)
    .map((r) => r.body.actor?.ip as string | undefined);

describe('client address behind a trusted proxy (trustedProxies)', () => {
  let proxied: GatewayProcess;
  let direct: GatewayProcess;

  beforeAll(async () => {
    [proxied, direct] = await Promise.all([
      startGateway({ access: ACCESS, trustedProxies: ['127.0.0.1/32'], rateLimits: { enabled: false } }),
      startGateway({ access: ACCESS, rateLimits: { enabled: false } }),
    ]);
  });
  afterAll(cleanup);

  it('a trusted peer: the forwarded address is the client in audit records (calls and authentication failures)', async () => {
    const token = await proxied.token('alice', ['eng']);
    const result = await callEcho(proxied, token, { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' });
    expect(result.body).toContain('hi');
    await fetch(`${proxied.url}/mcp`, { method: 'POST', headers: { ...JSON_RPC, forwarded: 'for="[2001:db8::7]:4711"' }, body: '{}' }).then((r) => r.text());
    await waitFor(() => ipsOf(proxied, 'call.result').length > 0 && ipsOf(proxied, 'auth.failure').length > 0, 'audit records');
    expect(ipsOf(proxied, 'call.intent')).toEqual(['203.0.113.9']);
    expect(ipsOf(proxied, 'call.result')).toEqual(['203.0.113.9']);
    expect(ipsOf(proxied, 'auth.failure')).toEqual(['2001:db8::7']);
  });

  it('the authorization server sees the same address (registration audit)', async () => {
    const res = await fetch(`${proxied.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.77' },
      body: JSON.stringify({ client_name: 'behind proxy', redirect_uris: ['http://127.0.0.1:5000/cb'], token_endpoint_auth_method: 'none' }),
    });
    expect(res.status).toBe(201);
    await waitFor(() => ipsOf(proxied, 'oauth.client_registered').length > 0, 'registration audit');
    expect(ipsOf(proxied, 'oauth.client_registered')).toEqual(['203.0.113.77']);
  });

  it('a request that carries both headers with different clients has no address, not the proxy’s', async () => {
    const token = await proxied.token('bob', ['eng']);
    await callEcho(proxied, token, { 'x-forwarded-for': '203.0.113.20', forwarded: 'for=10.0.0.1' });
    await waitFor(() => auditRows(proxied.dataDir).some((r) => r.kind === 'call.result' && r.body.actor?.sub === 'bob'), 'bob’s call');
    const bob = auditRows(proxied.dataDir).filter((r) => r.kind === 'call.result' && r.body.actor?.sub === 'bob');
    expect(bob.map((r) => r.body.actor?.ip)).toEqual([undefined]);
  });

  it('without the setting, forwarding headers are ignored: the audit shows the peer', async () => {
    const token = await direct.token('alice', ['eng']);
    const result = await callEcho(direct, token, { 'x-forwarded-for': '203.0.113.9', forwarded: 'for=203.0.113.9' });
    expect(result.body).toContain('hi');
    await fetch(`${direct.url}/mcp`, { method: 'POST', headers: { ...JSON_RPC, 'x-forwarded-for': '203.0.113.9' }, body: '{}' }).then((r) => r.text());
    await waitFor(() => ipsOf(direct, 'call.result').length > 0 && ipsOf(direct, 'auth.failure').length > 0, 'audit records');
    expect(ipsOf(direct, 'call.result')).toEqual(['127.0.0.1']);
    expect(ipsOf(direct, 'auth.failure')).toEqual(['127.0.0.1']);
    expect(JSON.stringify(auditRows(direct.dataDir))).not.toContain('203.0.113.9');
  });
});

describe('conditional access decides on the same address', () => {
  let proxied: GatewayProcess;
  let direct: GatewayProcess;
  const conditionalAccess = { '*': { networks: ['203.0.113.0/24'] } };

  beforeAll(async () => {
    [proxied, direct] = await Promise.all([
      startGateway({ access: ACCESS, trustedProxies: ['127.0.0.1/32'], identity: { conditionalAccess }, rateLimits: { enabled: false } }),
      startGateway({ access: ACCESS, identity: { conditionalAccess }, rateLimits: { enabled: false } }),
    ]);
  });
  afterAll(cleanup);

  it('behind the trusted proxy, a client in the allowed network gets in; one outside does not', async () => {
    const token = await proxied.token('alice', ['eng']);
    expect((await callEcho(proxied, token, { 'x-forwarded-for': '203.0.113.9' })).body).toContain('hi');
    const outside = await callEcho(proxied, token, { 'x-forwarded-for': '198.51.100.1' });
    expect(outside.status).toBe(403);
    expect(JSON.parse(outside.body)).toMatchObject({ code: 'identity.network_not_allowed' });
    await waitFor(() => ipsOf(proxied, 'auth.conditional_access_denied').length > 0, 'the refusal in the audit log');
    expect(ipsOf(proxied, 'auth.conditional_access_denied')).toEqual(['198.51.100.1']);
  });

  it('a client cannot spoof its way in: from an untrusted peer the header is ignored', async () => {
    const token = await direct.token('alice', ['eng']);
    const spoofed = await callEcho(direct, token, { 'x-forwarded-for': '203.0.113.9', forwarded: 'for=203.0.113.9' });
    expect(spoofed.status).toBe(403);
    expect(JSON.parse(spoofed.body)).toMatchObject({ code: 'identity.network_not_allowed' });
    await waitFor(() => ipsOf(direct, 'auth.conditional_access_denied').length > 0, 'the refusal in the audit log');
    expect(ipsOf(direct, 'auth.conditional_access_denied')).toEqual(['127.0.0.1']);
    expect(
      auditRows(direct.dataDir)
        .filter((r) => r.kind.startsWith('call.') || r.kind === 'session.start')
        .map((r) => r.kind),
    ).toEqual([]);
  });
});
