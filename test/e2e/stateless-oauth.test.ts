import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthGateway, signIn } from '../helpers/oauth-gateway.js';
import { RecordingAuthProvider } from '../helpers/sdk-auth-provider.js';

/**
 * Both official SDK lines through the OAuth flow against one running gateway: the 2.x client
 * speaks the stateless revision, the 1.x client opens a session. Same sign-in, same token rules.
 */
describe('official 2.x (stateless) and 1.x (session) clients, signed in through OAuth', () => {
  let gw: OAuthGateway;
  beforeAll(async () => {
    gw = await OAuthGateway.start();
    await gw.addUser('alice');
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('the 2.x client discovers, registers, signs alice in (RFC 9207 iss checked) and calls a tool without a session', async () => {
    const provider = new RecordingAuthProvider('http://127.0.0.1:33418/callback', undefined, 'sdk-2 e2e');
    const first = new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { authProvider: provider as never });
    await expect(new Client({ name: 'sdk-2', version: '2.4.0' }, { versionNegotiation: { mode: 'auto' } }).connect(first)).rejects.toThrow();
    const authorizationUrl = provider.authorizationUrls.at(-1) as URL;
    expect(authorizationUrl).toBeDefined();
    const callback = await signIn(gw.browser(), authorizationUrl);
    expect(callback.searchParams.get('iss')).toBe(gw.url);
    // The 2.x client validates iss (RFC 9207 §2.4) before it redeems the code.
    await first.finishAuth(callback.searchParams);

    const seen: { version: string | null; session: string | null }[] = [];
    const transport = new StreamableHTTPClientTransport(new URL(gw.mcpUrl), {
      authProvider: provider as never,
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        const response = await fetch(input, init);
        seen.push({ version: headers.get('mcp-protocol-version'), session: response.headers.get('mcp-session-id') });
        return response;
      },
    });
    const client = new Client({ name: 'sdk-2', version: '2.4.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(transport);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo__say');
    const result = await client.callTool({ name: 'echo__say', arguments: { text: 'hi' } });
    expect(result.isError).toBeFalsy();
    await client.close();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.version === '2026-07-28')).toBe(true);
    expect(seen.every((s) => s.session === null)).toBe(true);
  });

  it('the 1.x client signs in the same way and gets a session on the same endpoint', async () => {
    const provider = new RecordingAuthProvider('http://127.0.0.1:33419/callback', undefined, 'sdk-1 e2e');
    const first = new LegacyTransport(new URL(gw.mcpUrl), { authProvider: provider });
    await expect(new LegacyClient({ name: 'sdk-1', version: '1' }).connect(first)).rejects.toThrow();
    const callback = await signIn(gw.browser(), provider.authorizationUrls.at(-1) as URL);
    await first.finishAuth(callback.searchParams.get('code') as string);
    const transport = new LegacyTransport(new URL(gw.mcpUrl), { authProvider: provider });
    const client = new LegacyClient({ name: 'sdk-1', version: '1' });
    await client.connect(transport);
    expect(transport.sessionId).toBeTruthy();
    const result = await client.callTool({ name: 'echo__say', arguments: { text: 'hi' } });
    expect(result.isError).toBeFalsy();
    await client.close();
  });
});

describe('oauth.registration: off', () => {
  let gw: OAuthGateway;
  beforeAll(async () => {
    gw = await OAuthGateway.start({ oauth: { registration: 'off' } });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('advertises no registration endpoint and refuses registrations; metadata still says iss is sent (RFC 9207)', async () => {
    const metadata = (await (await fetch(`${gw.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata.registration_endpoint).toBeUndefined();
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.client_id_metadata_document_supported).toBe(true);
    const res = await fetch(`${gw.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none', application_type: 'native' }),
    });
    expect(res.status).not.toBe(201);
    expect([400, 404, 405]).toContain(res.status);
  });
});
