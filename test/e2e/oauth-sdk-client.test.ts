import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { runCli } from '../helpers/cli.js';
import { OAuthGateway, signIn } from '../helpers/oauth-gateway.js';
import { RecordingAuthProvider } from '../helpers/sdk-auth-provider.js';
import { documentServer, selfSignedCert } from '../helpers/tls.js';

type Seen = { method: string; path: string; status: number; grantType?: string | null };

/** A fetch that records what the SDK client asks, in order, so the request sequence is asserted. */
function recordingFetch(seen: Seen[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const body = init?.body;
    const grantType =
      body instanceof URLSearchParams
        ? body.get('grant_type')
        : typeof body === 'string' && body.includes('grant_type=')
          ? new URLSearchParams(body).get('grant_type')
          : undefined;
    const response = await fetch(input, init);
    seen.push({ method: init?.method ?? 'GET', path: url.pathname, status: response.status, ...(grantType ? { grantType } : {}) });
    return response;
  };
}

async function connectWithLogin(
  gw: OAuthGateway,
  provider: RecordingAuthProvider,
  seen: Seen[],
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const first = new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { authProvider: provider, fetch: recordingFetch(seen) });
  // No token yet: the SDK discovers, registers, and asks the user's browser to authorize.
  await expect(new Client({ name: 'sdk-e2e', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  const authorizationUrl = provider.authorizationUrls.at(-1) as URL;
  const callback = await signIn(gw.browser(), authorizationUrl);
  expect(callback.origin + callback.pathname).toBe(provider.redirectUrl);
  expect(callback.searchParams.get('state')).toBe(provider.lastState);
  expect(callback.searchParams.get('iss')).toBe(gw.url);
  await first.finishAuth(callback.searchParams.get('code') as string);
  const transport = new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { authProvider: provider, fetch: recordingFetch(seen) });
  const client = new Client({ name: 'sdk-e2e', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

describe('the official MCP SDK client, headless, against the built-in authorization server', () => {
  let gw: OAuthGateway;
  let tls: Awaited<ReturnType<typeof selfSignedCert>>;
  let docs: Awaited<ReturnType<typeof documentServer>>;
  const documents = new Map<string, unknown>();

  beforeAll(async () => {
    tls = await selfSignedCert();
    docs = await documentServer(tls, documents);
    gw = await OAuthGateway.start({ oauth: { clientMetadataDocuments: { dangerouslyAllowPrivateAddresses: true, caFile: tls.certFile } } });
    await gw.addUser('alice');
    await gw.addUser('bob');
  });
  afterAll(async () => {
    await gw.stop();
    await docs.close();
  });

  it('registration may be called cross-origin (browser clients such as MCP Inspector register themselves)', async () => {
    const origin = 'http://localhost:6274';
    const preflight = await fetch(`${gw.url}/oauth/register`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Content-Type/);
    const registered = await fetch(`${gw.url}/oauth/register`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Inspector',
        redirect_uris: [`${origin}/oauth/callback`],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      }),
    });
    expect(registered.status).toBe(201);
    expect(registered.headers.get('access-control-allow-origin')).toBe('*');
    // The token endpoint's CORS stays per client: only a registered redirect URI's origin.
    const tokenPreflight = await fetch(`${gw.url}/oauth/token`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(tokenPreflight.headers.get('access-control-allow-origin')).not.toBe('*');
  });

  it('DCR: 401 → metadata → registration → PKCE authorize → login → consent → token → tool call → refresh → revoked → 401', async () => {
    const seen: Seen[] = [];
    const provider = new RecordingAuthProvider('http://127.0.0.1:33418/callback');
    const { client, transport } = await connectWithLogin(gw, provider, seen);

    const discovery = seen.map((s) => `${s.method} ${s.path} ${s.status}${s.grantType ? ` ${s.grantType}` : ''}`);
    expect(discovery.slice(0, 4)).toEqual([
      'POST /mcp 401',
      'GET /.well-known/oauth-protected-resource/mcp 200',
      'GET /.well-known/oauth-authorization-server 200',
      'POST /oauth/register 201',
    ]);
    expect(discovery).toContain('POST /oauth/token 200 authorization_code');
    const url = provider.authorizationUrls[0] as URL;
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(gw.mcpUrl);
    expect(url.searchParams.get('scope')).toBe('mcp');

    const tokens = provider.tokens();
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'mcp', refresh_token: expect.any(String) });
    const principal = await gw.assembly.verifier.verify(tokens?.access_token);
    expect(principal).toMatchObject({ sub: 'alice', groups: ['eng'], scopes: ['mcp'], amr: ['pwd'] });

    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(['db__drop', 'db__query', 'echo__say', 'echo__shout']);
    const result = await client.callTool({ name: 'echo__say', arguments: { text: 'hi' } });
    expect(result.content).toEqual([{ type: 'text', text: 'say:{"text":"hi"}' }]);
    expect(gw.connectors[0]?.calls.at(-1)).toMatchObject({ sub: 'alice' });

    // Refresh: the access token stops working; the SDK refreshes (rotating the refresh token) and retries.
    const oldRefresh = tokens?.refresh_token;
    provider.saveTokens({ ...(tokens as NonNullable<typeof tokens>), access_token: 'expired.token.value' });
    const again = await client.callTool({ name: 'echo__say', arguments: { text: 'again' } });
    expect(again.content).toEqual([{ type: 'text', text: 'say:{"text":"again"}' }]);
    expect(seen.some((s) => s.path === '/oauth/token' && s.grantType === 'refresh_token' && s.status === 200)).toBe(true);
    expect(provider.tokens()?.refresh_token).not.toBe(oldRefresh);

    // Revoked from the CLI, as an operator would: the very next call is refused.
    const live = provider.tokens()?.access_token as string;
    const cli = await runCli(['revoke', '--user', 'alice', '--reason', 'e2e', '--data-dir', gw.dataDir]);
    expect(cli.code).toBe(0);
    const raw = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${live}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(await raw.json()).toMatchObject({ code: 'auth.token_revoked' });
    // …and the refresh-token family is gone, so the SDK cannot quietly get a new token.
    const refresh = await fetch(`${gw.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: provider.tokens()?.refresh_token as string,
        client_id: (provider.clientInformation() as { client_id: string }).client_id,
      }),
    });
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
    await expect(client.callTool({ name: 'echo__say', arguments: {} })).rejects.toThrow();
    expect(gw.assembly.sessions.forUser('alice').size).toBe(0);
    expect(await gw.auditKinds()).toEqual(
      expect.arrayContaining(['oauth.client_registered', 'auth.login', 'oauth.consent', 'oauth.token_issued', 'admin.revoke', 'session.end']),
    );
    await transport.close();
  });

  it('CIMD: the client id is an https URL whose document the server fetches; redirect URIs come from it', async () => {
    const seen: Seen[] = [];
    const redirect = 'http://127.0.0.1:33419/callback';
    const clientId = `${docs.origin}/clients/sdk.json`;
    documents.set('/clients/sdk.json', {
      client_id: clientId,
      client_name: 'CIMD SDK client',
      redirect_uris: [redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const provider = new RecordingAuthProvider(redirect, clientId, 'CIMD SDK client');
    const { client, transport } = await connectWithLogin(gw, provider, seen);
    expect(seen.some((s) => s.path === '/oauth/register')).toBe(false);
    expect((provider.clientInformation() as { client_id: string }).client_id).toBe(clientId);
    expect(docs.hits).toContain('/clients/sdk.json');
    const principal = await gw.assembly.verifier.verify(provider.tokens()?.access_token);
    expect(principal.clientId).toBe(clientId);
    expect((await client.callTool({ name: 'db__query', arguments: { sql: 'select 1' } })).content).toEqual([
      { type: 'text', text: 'query:{"sql":"select 1"}' },
    ]);
    await transport.close();
  });

  it('CIMD: a redirect URI not in the document is refused without a redirect', async () => {
    const clientId = `${docs.origin}/clients/strict.json`;
    documents.set('/clients/strict.json', {
      client_id: clientId,
      client_name: 'Strict',
      redirect_uris: ['http://127.0.0.1:40000/cb'],
      token_endpoint_auth_method: 'none',
    });
    const url = new URL(`${gw.url}/oauth/authorize`);
    for (const [k, v] of Object.entries({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: 'https://attacker.example/cb',
      scope: 'mcp',
      state: 's',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
      resource: gw.mcpUrl,
    }))
      url.searchParams.set(k, v);
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const page = await res.text();
    expect(page).toContain('invalid_redirect_uri');
    expect(page).not.toMatch(/at .*\.js:\d+/);
  });
});
