import { describe, expect, it } from 'vitest';
import { fakePrincipal } from '../../test/helpers/call-context.js';
import type { AuthenticationError } from '../errors/index.js';
import { TokenError, type Principal } from '../tokens/index.js';
import { createHttpApp, type HttpAppDeps } from './app.js';

const TOKEN = 'good-token';

/** The front door over fakes: which requests reached the MCP endpoint, and which auth failures were reported. */
function frontDoor(overrides: Partial<HttpAppDeps> = {}) {
  const reached: Principal[] = [];
  const failures: string[] = [];
  const app = createHttpApp({
    publicUrl: 'http://gw.test',
    allowedOrigins: [],
    maxRequestBody: 1024,
    verify: async (token) => {
      if (token !== TOKEN) throw new TokenError(token === undefined ? 'auth.missing_token' : 'auth.invalid_signature');
      return fakePrincipal();
    },
    onAuthFailure: (error: AuthenticationError) => failures.push(error.code),
    resourceMetadata: () => ({ resource: 'http://gw.test/mcp', bearer_methods_supported: ['header'] }),
    mcp: async (c) => {
      reached.push(c.get('principal'));
      return c.json({ jsonrpc: '2.0', id: 1, result: {} });
    },
    health: () => ({ alive: true }),
    readiness: async () => ({ ready: false, storage: false }),
    onError: () => undefined,
    challengeScope: 'mcp',
    ...overrides,
  });
  const post = (body: string, headers: Record<string, string> = {}) =>
    app.request('http://gw.test/mcp', {
      method: 'POST',
      body,
      headers: { host: 'gw.test', 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    });
  return { app, reached, failures, post };
}

const PING = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });

describe('HTTP front door', () => {
  it('answers health without authentication, and readiness with 503 while not ready', async () => {
    const { app } = frontDoor();
    expect(await (await app.request('http://gw.test/healthz')).json()).toEqual({ alive: true });
    const ready = await app.request('http://gw.test/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, storage: false });
  });

  it('serves the protected-resource metadata without authentication, at both well-known paths', async () => {
    const { app } = frontDoor();
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const response = await app.request(`http://gw.test${path}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ resource: 'http://gw.test/mcp', bearer_methods_supported: ['header'] });
    }
  });

  it('passes an authenticated JSON-RPC POST to the MCP endpoint with the verified principal', async () => {
    const { post, reached } = frontDoor();
    const response = await post(PING);
    expect(response.status).toBe(200);
    expect(reached.map((p) => p.sub)).toEqual(['alice']);
  });

  it('refuses a request without a token with 401 and a challenge naming the metadata and scope; the endpoint never sees it', async () => {
    const { post, reached, failures } = frontDoor();
    const response = await post(PING, { authorization: '' });
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain('resource_metadata="http://gw.test/.well-known/oauth-protected-resource/mcp"');
    expect(challenge).toContain('scope="mcp"');
    expect(reached).toEqual([]);
    expect(failures).toHaveLength(1);
  });

  it('refuses a token in the query string or a malformed header, and never echoes the token', async () => {
    const { app, reached } = frontDoor();
    const inQuery = await app.request(`http://gw.test/mcp?access_token=${TOKEN}`, {
      method: 'POST',
      body: PING,
      headers: { host: 'gw.test', 'content-type': 'application/json' },
    });
    expect(inQuery.status).toBe(401);
    const { post } = frontDoor();
    const malformed = await post(PING, { authorization: `Bearer ${TOKEN} extra` });
    expect(malformed.status).toBe(401);
    expect(await malformed.text()).not.toContain(TOKEN);
    expect(reached).toEqual([]);
  });

  it('refuses a foreign Host or Origin (DNS rebinding) before authentication', async () => {
    const { post, reached, failures } = frontDoor();
    const host = await post(PING, { host: 'evil.test' });
    expect(host.status).toBe(403);
    expect(await host.json()).toMatchObject({ error: { data: { code: 'http.invalid_host' } } });
    const origin = await post(PING, { origin: 'http://evil.test' });
    expect(origin.status).toBe(403);
    expect(await origin.json()).toMatchObject({ error: { data: { code: 'http.invalid_origin' } } });
    expect(reached).toEqual([]);
    expect(failures).toEqual([]);
  });

  it('refuses bodies that are too large, not JSON, or of another media type, before the endpoint', async () => {
    const { post, reached } = frontDoor();
    expect((await post('x'.repeat(2048))).status).toBe(413);
    expect((await post('{not json')).status).toBe(400);
    expect((await post(PING, { 'content-type': 'text/plain' })).status).toBe(415);
    expect(reached).toEqual([]);
  });

  it('answers other methods on /mcp with 405 and Allow, unknown paths with a JSON 404, and hides handler errors', async () => {
    const errors: Error[] = [];
    const { app } = frontDoor({
      onError: (error) => errors.push(error),
      mcp: async () => {
        throw new Error('internal detail /var/lib/x');
      },
    });
    const put = await app.request('http://gw.test/mcp', { method: 'PUT', headers: { host: 'gw.test', authorization: `Bearer ${TOKEN}` } });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, DELETE');
    const missing = await app.request('http://gw.test/nothing-here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not_found' });
    const failed = await app.request('http://gw.test/mcp', {
      method: 'POST',
      body: PING,
      headers: { host: 'gw.test', 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    });
    expect(failed.status).toBe(500);
    const text = await failed.text();
    expect(text).toBe('{"error":"server_error"}');
    expect(errors.map((e) => e.message)).toEqual(['internal detail /var/lib/x']);
  });
});
