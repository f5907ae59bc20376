import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsoleAuth } from '../../src/console/console-auth.js';
import { connectionsPage } from '../../src/console/connections-page.js';
import { CALLBACK, CLIENT_SECRET_NAME, connectionWorld, PUBLIC_URL, type ConnectionWorld } from '../helpers/connections.js';
import { FakeOAuthProvider } from '../helpers/fake-oauth-provider.js';

const CLIENT_SECRET = 'page-test-client-secret-91b2';

/** Browser sessions as the console sees them: a cookie `session=<user>.<id>`. */
const auth: ConsoleAuth = {
  currentUser(c) {
    const match = /session=([a-z]+)\.([a-z0-9]+)/.exec(c.req.header('cookie') ?? '');
    return match ? { sub: match[1] as string, groups: [], sessionId: match[2] as string } : undefined;
  },
  loginUrl: (returnTo) => `/account/sign-in?return_to=${encodeURIComponent(returnTo)}`,
};

describe('/connections: connect and disconnect own accounts (signed in, CSRF-protected)', () => {
  let idp: FakeOAuthProvider;
  let world: ConnectionWorld;
  let app: ReturnType<typeof connectionsPage>;

  beforeEach(async () => {
    idp = await FakeOAuthProvider.start({ redirectUri: CALLBACK, clientSecret: CLIENT_SECRET });
    world = await connectionWorld({ secrets: { [CLIENT_SECRET_NAME]: CLIENT_SECRET } });
    world.provider('items', {
      issuer: idp.issuer,
      dangerouslyAllowHttp: true,
      clientId: 'gatehouse-downstream',
      clientSecret: `vault:${CLIENT_SECRET_NAME}`,
      scopes: ['openid', 'offline_access', 'items:read'],
      displayName: 'Items Cloud',
    });
    app = connectionsPage({ registry: world.registry, auth, publicUrl: PUBLIC_URL, log: world.log });
  });

  afterEach(async () => {
    await world.close();
    await idp.stop();
  });

  const get = (path: string, cookie?: string, headers: Record<string, string> = {}) =>
    app.request(`${PUBLIC_URL}${path}`, { headers: { host: 'gatehouse.test', ...(cookie ? { cookie } : {}), ...headers } });
  const post = (path: string, cookie: string, fields: Record<string, string>, headers: Record<string, string> = { origin: PUBLIC_URL }) =>
    app.request(`${PUBLIC_URL}${path}`, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { host: 'gatehouse.test', cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  const csrfOf = async (cookie: string) => /name="csrf" value="([^"]+)"/.exec(await (await get('/?server=items', cookie)).text())?.[1] as string;
  const pendingCount = () => (world.storage.sql.statement('SELECT count(*) AS n FROM connection_requests').get() as { n: number }).n;

  it('sends a visitor without a session to sign in, and refuses agents (bearer tokens)', async () => {
    const anonymous = await get('/?server=items');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/account/sign-in?return_to=%2Fconnections');
    const agent = await get('/', 'session=alice.s1', { authorization: 'Bearer agent-token' });
    expect(agent.status).toBe(401);
    expect(await agent.text()).toContain('does not accept bearer tokens');
  });

  it('lists provider, scopes and server; connect needs same origin and CSRF; callback only in the starting session; then disconnect', async () => {
    const alice = 'session=alice.s1';
    const page = await get('/?server=items', alice);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('Items Cloud');
    expect(text).toContain('<code>items</code>');
    expect(text).toContain('<code>items:read</code>');
    expect(text).toContain('Not connected');
    expect(text).toContain('A call of your agent needs');
    expect(page.headers.get('content-security-policy')).toContain(`form-action 'self' ${idp.issuer}`);
    const csrf = await csrfOf(alice);

    // Cross-origin post, missing or foreign CSRF token: refused, nothing started.
    expect((await post('/connect', alice, { csrf, server: 'items' }, { origin: 'http://evil.test' })).status).toBe(403);
    expect((await post('/connect', alice, { server: 'items' })).status).toBe(403);
    expect((await post('/connect', alice, { csrf: await csrfOf('session=alice.other'), server: 'items' })).status).toBe(403);
    expect((await post('/connect', alice, { csrf, server: 'nope' })).status).toBe(404);
    expect(pendingCount()).toBe(0);
    expect(idp.grants.size).toBe(0);

    // A callback in another browser session (or another person's) does not connect anything.
    const started = await post('/connect', alice, { csrf, server: 'items' });
    expect(started.status).toBe(303);
    const authorizationUrl = new URL(started.headers.get('location') as string);
    expect(authorizationUrl.origin).toBe(idp.issuer);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    const callback = await idp.authorize(authorizationUrl);
    expect(callback.href.startsWith(CALLBACK)).toBe(true);
    const hijack = await get(`${callback.pathname.replace('/connections', '')}${callback.search}`, 'session=mallory.s9');
    expect(hijack.status).toBe(400);
    expect(await world.storage.connections.get('alice', 'items')).toBeUndefined();
    expect(await world.storage.connections.get('mallory', 'items')).toBeUndefined();
    expect(idp.count('authorization_code')).toBe(0);

    // The real flow: start, sign in at the provider, come back in the same session.
    const again = await post('/connect', alice, { csrf, server: 'items' });
    const back = await idp.authorize(new URL(again.headers.get('location') as string));
    const done = await get(`/callback${back.search}`, alice);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/connections?done=connected&for=items');
    expect((await world.storage.connections.get('alice', 'items'))?.refreshToken).not.toBeNull();
    // The same callback again (a replayed state) connects nothing more.
    expect((await get(`/callback${back.search}`, alice)).status).toBe(400);
    expect(idp.count('authorization_code')).toBe(1);

    const connected = await (await get('/', alice)).text();
    expect(connected).toContain('Connected');
    expect(connected).toContain('Disconnect');
    for (const token of idp.issued) expect(connected.includes(token)).toBe(false);

    const gone = await post('/disconnect', alice, { csrf: await csrfOf(alice), server: 'items' });
    expect(gone.status).toBe(303);
    expect(await world.storage.connections.get('alice', 'items')).toBeUndefined();
    expect(idp.revoked.length).toBeGreaterThan(0);
    expect((await post('/disconnect', alice, { csrf: await csrfOf(alice), server: 'items' })).status).toBe(404);
  });

  it('a declined authorization at the provider connects nothing', async () => {
    const alice = 'session=alice.s1';
    const started = await post('/connect', alice, { csrf: await csrfOf(alice), server: 'items' });
    const state = new URL(started.headers.get('location') as string).searchParams.get('state') as string;
    const declined = await get(`/callback?error=access_denied&state=${encodeURIComponent(state)}`, alice);
    expect(declined.status).toBe(400);
    expect(await declined.text()).toContain('You declined');
    expect(await world.storage.connections.get('alice', 'items')).toBeUndefined();
    expect(pendingCount()).toBe(0);
  });
});
