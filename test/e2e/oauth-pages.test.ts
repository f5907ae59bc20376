import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forms } from '../helpers/browser.js';
import { freePort } from '../helpers/fake-idp.js';
import { OAuthGateway, PASSWORD, signIn } from '../helpers/oauth-gateway.js';

const challenge = () => createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');

describe('sign-in, consent and connected-clients pages', () => {
  let gw: OAuthGateway;
  let native: { client_id: string };

  const authorizeUrl = (clientId: string, redirect: string, extra: Record<string, string> = {}) => {
    const url = new URL(`${gw.url}/oauth/authorize`);
    for (const [k, v] of Object.entries({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirect,
      scope: 'mcp',
      state: 's',
      code_challenge: challenge(),
      code_challenge_method: 'S256',
      resource: gw.mcpUrl,
      ...extra,
    }))
      url.searchParams.set(k, v);
    return url;
  };

  beforeAll(async () => {
    gw = await OAuthGateway.start({
      identity: { lockout: { threshold: 3, baseDelay: '1m', maxDelay: '5m' } },
      oauth: { clients: [{ clientId: 'web-dashboard', clientName: 'Team Dashboard', redirectUris: ['https://dashboard.example/callback'] }] },
    });
    await gw.addUser('alice');
    await gw.addUser('lucy');
    const res = await fetch(`${gw.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Evil <script>alert(1)</script> Agent',
        redirect_uris: ['http://127.0.0.1:53001/cb'],
        token_endpoint_auth_method: 'none',
      }),
    });
    native = (await res.json()) as { client_id: string };
  });
  afterAll(async () => gw.stop());

  it('the login page is accessible, self-contained and locked down', async () => {
    const browser = gw.browser();
    const { response, url } = await browser.go(authorizeUrl(native.client_id, 'http://127.0.0.1:53001/cb'));
    expect(url.pathname).toMatch(/^\/interaction\/[\w-]+$/);
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<h1>Sign in</h1>');
    expect(html).toMatch(/<label for="username">Username<\/label>\s*<input type="text" id="username" name="username" autocomplete="username"/);
    expect(html).toMatch(/<label for="password">Password<\/label>\s*<input type="password" id="password" name="password"/);
    expect(html).not.toMatch(/(src|href)="https?:|@import|<script/i);
    expect(html).toContain('Evil &#60;script&#62;alert(1)&#60;/script&#62; Agent');
    const headers = response.headers;
    expect(headers.get('content-security-policy')).toMatch(/default-src 'none'; style-src 'sha256-[^']+'; .*frame-ancestors 'none'/);
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(headers.get('referrer-policy')).toBe('same-origin');
    // Plain-http loopback: the same cookies without the __Host- prefix and without Secure.
    const cookies = browser.history.flatMap((h) => h.headers.getSetCookie());
    const interaction = cookies.find((c) => c.startsWith('gatehouse.interaction='));
    expect(interaction).toMatch(/path=\/;.*httponly/i);
    expect(interaction).toMatch(/samesite=lax/i);
    expect(interaction).not.toMatch(/secure/i);
  });

  it('behind https, cookies are __Host- (Path=/, Secure, HttpOnly, SameSite=Lax); the resume cookie is __Secure-', async () => {
    const port = await freePort();
    const tls = await OAuthGateway.start({ listen: { host: '127.0.0.1', port }, publicUrl: `https://127.0.0.1:${port}` });
    try {
      const reg = await fetch(`http://127.0.0.1:${port}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:53002/cb'], token_endpoint_auth_method: 'none' }),
      });
      const client = (await reg.json()) as { client_id: string };
      const url = new URL(`http://127.0.0.1:${port}/oauth/authorize`);
      for (const [k, v] of Object.entries({
        client_id: client.client_id,
        response_type: 'code',
        redirect_uri: 'http://127.0.0.1:53002/cb',
        scope: 'mcp',
        state: 's',
        code_challenge: challenge(),
        code_challenge_method: 'S256',
        resource: `https://127.0.0.1:${port}/mcp`,
      }))
        url.searchParams.set(k, v);
      const res = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-proto': 'http' } });
      expect(res.status).toBe(303);
      const cookies = res.headers.getSetCookie();
      const interaction = cookies.find((c) => c.startsWith('__Host-gatehouse.interaction='));
      expect(interaction).toMatch(/path=\//i);
      expect(interaction).toMatch(/secure/i);
      expect(interaction).toMatch(/httponly/i);
      expect(interaction).toMatch(/samesite=lax/i);
      expect(interaction).not.toMatch(/domain=/i);
      expect(cookies.find((c) => c.startsWith('__Secure-gatehouse.resume='))).toMatch(/secure/i);
    } finally {
      await tls.stop();
    }
  });

  it('wrong passwords get one message for every cause, then lockout with a retry time', async () => {
    const browser = gw.browser();
    const { response, url } = await browser.go(authorizeUrl(native.client_id, 'http://127.0.0.1:53001/cb'));
    let form = forms(await response.text())[0]!;
    const attempt = async (username: string, password: string) => {
      const res = await browser.submit(url, form, { username, password });
      const text = await res.response.text();
      form = forms(text)[0] ?? form;
      return { status: res.response.status, text };
    };
    const wrong = await attempt('lucy', 'not her password');
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong username or password.');
    expect(wrong.text).toContain('value="lucy"');
    expect((await attempt('my-Secret-passw0rd-typed-here', 'x')).text).toContain('Wrong username or password.');
    await attempt('lucy', 'still wrong');
    const locked = await attempt('lucy', 'third time');
    expect(locked.status).toBe(429);
    expect(locked.text).toContain('Too many failed attempts. Try again in 1 minute.');
    const evenRight = await attempt('lucy', PASSWORD);
    expect(evenRight.status).toBe(429);
    const failures = await gw.auditBodies('auth.login_failed');
    expect(failures.map((f) => (f.actor as { sub: string }).sub)).toEqual(['lucy', '(unknown user)', 'lucy', 'lucy', 'lucy']);
    expect(JSON.stringify(failures)).not.toContain('my-Secret-passw0rd-typed-here');
  });

  it('the consent page names the client, where it returns to, and what it asks; a native client is asked every time', async () => {
    const browser = gw.browser();
    const first = await browser.go(authorizeUrl(native.client_id, 'http://127.0.0.1:53001/cb', { scope: 'mcp server:echo tool:db__query' }));
    const login = forms(await first.response.text())[0]!;
    const consent = await browser.submit(first.url, login, { username: 'alice', password: PASSWORD });
    const html = await consent.response.text();
    expect(html).toContain('<h1>Allow access?</h1>');
    expect(html).toContain('Evil &#60;script&#62;alert(1)&#60;/script&#62; Agent</strong> wants to act as <strong>alice');
    expect(html).toContain('<dt>Returns to</dt><dd><code>127.0.0.1:53001</code></dd>');
    expect(html).toContain('Use the tools, prompts and resources of server “echo”');
    expect(html).toContain('Use the tool “db__query”');
    expect(html).toMatch(/value="allow" class="primary">Allow<\/button>/);
    expect(html).toContain('asked for every time');
    const done = await browser.submit(consent.url, forms(html)[0]!, { decision: 'allow' });
    expect(done.url.searchParams.get('code')).toBeTruthy();
    // Same browser, same client again: signed in already, but a native client sees consent again.
    const again = await browser.go(authorizeUrl(native.client_id, 'http://127.0.0.1:53001/cb'));
    expect(await again.response.text()).toContain('name="decision"');
  });

  it('remembers consent for a web client, per user, while the redirect host is the one consented to', async () => {
    const browser = gw.browser();
    const first = await signIn(browser, authorizeUrl('web-dashboard', 'https://dashboard.example/callback'));
    expect(first.origin).toBe('https://dashboard.example');
    expect(await gw.assembly.storage.consents.get('alice', 'web-dashboard')).toMatchObject({
      clientName: 'Team Dashboard',
      redirectHost: 'dashboard.example',
      scopes: ['mcp'],
    });
    const fresh = gw.browser();
    const login = await fresh.go(authorizeUrl('web-dashboard', 'https://dashboard.example/callback'));
    const straightBack = await fresh.submit(login.url, forms(await login.response.text())[0]!, { username: 'alice', password: PASSWORD });
    expect(straightBack.url.origin).toBe('https://dashboard.example');
    expect(straightBack.url.searchParams.get('code')).toBeTruthy();
    // A wider request goes back to the user.
    const wider = await fresh.go(authorizeUrl('web-dashboard', 'https://dashboard.example/callback', { scope: 'mcp offline_access server:db' }));
    expect(await wider.response.text()).toContain('name="decision"');
  });

  it('denying consent returns access_denied and records nothing', async () => {
    await gw.addUser('dan');
    const denied = await signIn(gw.browser(), authorizeUrl(native.client_id, 'http://127.0.0.1:53001/cb'), { username: 'dan', decision: 'deny' });
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('code')).toBeNull();
    expect(await gw.assembly.storage.consents.get('dan', native.client_id)).toBeUndefined();
  });

  it('an unknown client gets a clear error page, never a stack trace', async () => {
    const res = await fetch(authorizeUrl('no-such-client', 'http://127.0.0.1:1/cb'), { redirect: 'manual' });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<h1>Request refused</h1>');
    expect(html).toContain('invalid_client');
    expect(html).not.toMatch(/Error:|at \S+\.(js|ts):\d+|node_modules/);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('connected clients: the user sees their clients and revokes one; its tokens, refresh family and sessions end', async () => {
    await gw.addUser('vera');
    const reg = await fetch(`${gw.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Vera’s agent', redirect_uris: ['http://127.0.0.1:53003/cb'], token_endpoint_auth_method: 'none' }),
    });
    const client = (await reg.json()) as { client_id: string };
    const browser = gw.browser();
    const verifier = randomBytes(32).toString('base64url');
    const callback = await signIn(
      browser,
      authorizeUrl(client.client_id, 'http://127.0.0.1:53003/cb', { code_challenge: createHash('sha256').update(verifier).digest('base64url') }),
      { username: 'vera' },
    );
    const tokens = (await (
      await fetch(`${gw.url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code') as string,
          code_verifier: verifier,
          client_id: client.client_id,
          redirect_uri: 'http://127.0.0.1:53003/cb',
          resource: gw.mcpUrl,
        }),
      })
    ).json()) as { access_token: string; refresh_token: string };
    const init = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    });
    expect(init.status).toBe(200);
    expect(gw.assembly.sessions.forUser('vera').size).toBe(1);

    // The account page reuses the sign-in session of this browser.
    const account = await browser.go(`${gw.url}/account`);
    expect(account.url.pathname).toBe('/account');
    const page = await account.response.text();
    expect(page).toContain('<h1>Connected clients</h1>');
    expect(page).toContain('Vera’s agent');
    expect(page).toContain('<code>127.0.0.1:53003</code>');
    const revokeForm = forms(page).find((f) => f.fields.client_id === client.client_id)!;
    const forged = await browser.request(new URL(revokeForm.action, account.url), {
      method: 'POST',
      body: new URLSearchParams({ ...revokeForm.fields, csrf: 'x' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(forged.status).toBe(403);
    const revoked = await browser.submit(account.url, revokeForm);
    expect(await revoked.response.text()).toContain('Access for Vera’s agent was revoked.');

    const after = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(after.status).toBe(401);
    const refresh = await fetch(`${gw.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.client_id }),
    });
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
    expect(gw.assembly.sessions.forUser('vera').size).toBe(0);
    expect(await gw.assembly.storage.consents.get('vera', client.client_id)).toBeUndefined();
    expect((await gw.auditBodies('oauth.consent_revoked')).at(-1)).toMatchObject({ actor: { sub: 'vera' }, revoked: { client: client.client_id } });
    expect((await gw.auditBodies('admin.revoke')).at(-1)).toMatchObject({ actor: { sub: 'vera' }, revoked: { kind: 'grant' } });
  });

  it('the account page without a session sends the browser to sign in, and back', async () => {
    await gw.addUser('walt');
    const browser = gw.browser();
    const start = await browser.go(`${gw.url}/account`);
    expect(start.url.pathname).toMatch(/^\/interaction\//);
    const html = await start.response.text();
    expect(html).toContain('Sign in to manage the applications connected to your account and the approval requests waiting for you.');
    const done = await browser.submit(start.url, forms(html)[0]!, { username: 'walt', password: PASSWORD });
    expect(done.url.pathname).toBe('/account');
    expect(await done.response.text()).toContain('Signed in as <strong>walt</strong>');
    // A callback with someone else's state is refused.
    const bad = await gw.browser().go(`${gw.url}/account/callback?state=forged`);
    expect(bad.response.status).toBe(400);
  });
});
