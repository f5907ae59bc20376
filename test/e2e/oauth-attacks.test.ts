import { createHash, createSecretKey, randomBytes } from 'node:crypto';
import { decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { forms } from '../helpers/browser.js';
import { OAuthGateway, PASSWORD, signIn } from '../helpers/oauth-gateway.js';
import { documentServer, selfSignedCert } from '../helpers/tls.js';

interface Client {
  client_id: string;
  redirect_uris: string[];
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

describe("attacks on the authorization server, each refused with the spec's error and no usable grant", () => {
  let gw: OAuthGateway;
  let clientA: Client;
  let clientB: Client;

  const register = async (redirect: string, extra: Record<string, unknown> = {}): Promise<Client> => {
    const res = await fetch(`${gw.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'attack test',
        redirect_uris: [redirect],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        ...extra,
      }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Client;
  };

  const authorizeUrl = (client: Client, params: Record<string, string | undefined> = {}) => {
    const url = new URL(`${gw.url}/oauth/authorize`);
    const defaults: Record<string, string | undefined> = {
      client_id: client.client_id,
      response_type: 'code',
      redirect_uri: client.redirect_uris[0],
      scope: 'mcp',
      state: 'st',
      code_challenge_method: 'S256',
      resource: gw.mcpUrl,
    };
    for (const [k, v] of Object.entries({ ...defaults, ...params })) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  };

  /** A full, honest authorization; returns the code and the verifier. */
  const getCode = async (client: Client, params: Record<string, string | undefined> = {}, user = 'alice') => {
    const { verifier, challenge } = pkce();
    const callback = await signIn(gw.browser(), authorizeUrl(client, { code_challenge: challenge, ...params }), { username: user });
    expect(callback.searchParams.get('error')).toBeNull();
    return { code: callback.searchParams.get('code') as string, verifier, callback };
  };

  const token = (body: Record<string, string | undefined>) => {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(body)) if (v !== undefined) form.set(k, v);
    return fetch(`${gw.url}/oauth/token`, { method: 'POST', body: form });
  };

  const redeem = (client: Client, code: string, verifier: string | undefined, extra: Record<string, string | undefined> = {}) =>
    token({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: client.client_id,
      redirect_uri: client.redirect_uris[0],
      resource: gw.mcpUrl,
      ...extra,
    });

  const mcp = (accessToken: string) =>
    fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    });

  const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

  beforeAll(async () => {
    gw = await OAuthGateway.start();
    await gw.addUser('alice');
    await gw.addUser('mallory');
    clientA = await register('http://127.0.0.1:51001/cb');
    clientB = await register('http://127.0.0.1:51002/cb');
  });
  afterAll(async () => gw.stop());

  it('code reuse: the second redemption fails, and everything issued from the first is revoked', async () => {
    const { code, verifier } = await getCode(clientA);
    const first = await redeem(clientA, code, verifier);
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as { access_token: string; refresh_token: string };
    expect((await mcp(tokens.access_token)).status).toBe(200);
    const second = await redeem(clientA, code, verifier);
    expect(second.status).toBe(400);
    expect(await errorOf(second)).toBe('invalid_grant');
    const reused = await mcp(tokens.access_token);
    expect(reused.status).toBe(401);
    expect(await reused.json()).toMatchObject({ code: 'auth.token_revoked' });
    expect(await errorOf(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientA.client_id }))).toBe(
      'invalid_grant',
    );
  });

  it('PKCE: missing and plain challenges are refused at authorize; a wrong or missing verifier at the token endpoint', async () => {
    for (const params of [
      { code_challenge: undefined, code_challenge_method: undefined },
      { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' },
    ]) {
      const res = await fetch(authorizeUrl(clientA, params), { redirect: 'manual' });
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get('location') as string);
      expect(location.origin + location.pathname).toBe(clientA.redirect_uris[0]);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('code')).toBeNull();
    }
    const { code, verifier } = await getCode(clientA);
    expect(await errorOf(await redeem(clientA, code, pkce().verifier))).toBe('invalid_grant');
    expect(await errorOf(await redeem(clientA, code, undefined))).toBe('invalid_grant');
    // The attacker's failures burn nothing for the rightful holder, who alone has the verifier.
    expect((await redeem(clientA, code, verifier)).status).toBe(200);
  });

  it('redirect URIs are matched exactly (only a loopback port may vary); open-redirect attempts get an error page, not a redirect', async () => {
    const base = clientA.redirect_uris[0] as string;
    for (const evil of [
      'https://attacker.example/cb',
      `${base}/../evil`,
      `${base}?next=https://attacker.example`,
      `${base}#frag`,
      'http://127.0.0.1.attacker.example:51001/cb',
      'http://attacker@127.0.0.1:51001/cb',
      'http://127.0.0.1:51001/other',
      base.replace('http:', 'https:'),
    ]) {
      const res = await fetch(authorizeUrl(clientA, { redirect_uri: evil, code_challenge: pkce().challenge }), { redirect: 'manual' });
      expect(res.status, evil).toBe(400);
      expect(res.headers.get('location'), evil).toBeNull();
      expect(await res.text()).toMatch(/invalid_redirect_uri|invalid_request/);
    }
    // RFC 8252 §7.3: a native client on loopback may come back on another port.
    const { code, verifier } = await getCode(clientA, { redirect_uri: 'http://127.0.0.1:61234/cb' });
    expect(await errorOf(await redeem(clientA, code, verifier))).toBe('invalid_grant');
    expect((await redeem(clientA, code, verifier, { redirect_uri: 'http://127.0.0.1:61234/cb' })).status).toBe(200);
    // Dynamic registration refuses plain-http redirects off loopback and script schemes.
    for (const uri of ['http://attacker.example/cb', 'javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd']) {
      const res = await fetch(`${gw.url}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [uri], token_endpoint_auth_method: 'none' }),
      });
      expect(res.status, uri).toBe(400);
      expect(await errorOf(res), uri).toMatch(/invalid_redirect_uri|invalid_client_metadata/);
    }
  });

  it('resource (RFC 8707): required, only this gateway, and bound into aud', async () => {
    for (const resource of [undefined, 'https://elsewhere.example/mcp', `${gw.url}/other`]) {
      const res = await fetch(authorizeUrl(clientA, { resource, code_challenge: pkce().challenge }), { redirect: 'manual' });
      const location = new URL(res.headers.get('location') as string);
      expect(location.searchParams.get('error'), String(resource)).toBe('invalid_target');
    }
    const { code, verifier } = await getCode(clientA);
    expect(await errorOf(await redeem(clientA, code, verifier, { resource: 'https://elsewhere.example/mcp' }))).toBe('invalid_target');
    // A narrowing scope for a server that does not exist would be dropped into a wider token: refused.
    const unknown = await fetch(authorizeUrl(clientA, { scope: 'mcp server:nope', code_challenge: pkce().challenge }), { redirect: 'manual' });
    expect(new URL(unknown.headers.get('location') as string).searchParams.get('error')).toBe('invalid_scope');
  });

  it('tokens with another audience, alg none, HS256 with the public key, expired or not yet valid are refused at /mcp', async () => {
    const keys = gw.assembly.tokenKeys;
    const { kid, key } = keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const base = { sub: 'alice', client_id: 'x', scope: 'mcp', jti: randomBytes(8).toString('hex'), iss: gw.url, aud: gw.mcpUrl };
    const sign = (claims: Record<string, unknown>, iat = now) =>
      new SignJWT({ ...base, ...claims })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .setIssuedAt(iat)
        .setExpirationTime(iat + 300)
        .sign(key);
    const cases: [string, string, string][] = [
      ['another audience', await sign({ aud: 'https://other.example/mcp' }), 'auth.wrong_audience'],
      ['alg none', new UnsecuredJWT(base).setIssuedAt().setExpirationTime('5m').encode(), 'auth.unsupported_alg'],
      [
        'HS256 keyed with the public JWK',
        await new SignJWT(base)
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(createSecretKey(Buffer.from(JSON.stringify((await (await fetch(`${gw.url}/oauth/jwks`)).json()).keys[0])))),
        'auth.unsupported_alg',
      ],
      ['expired', await sign({}, now - 3600), 'auth.token_expired'],
      ['nbf in the future', await sign({ nbf: now + 600 }), 'auth.token_not_yet_valid'],
    ];
    for (const [name, jwt, code] of cases) {
      const res = await mcp(jwt);
      expect(res.status, name).toBe(401);
      expect(res.headers.get('www-authenticate'), name).toMatch(/^Bearer resource_metadata=".*", scope="mcp", error="invalid_token"/);
      expect(await res.json(), name).toMatchObject({ code });
    }
    expect(gw.assembly.sessions.size).toBe(0);
  });

  it('refresh-token reuse revokes the whole family, access tokens included', async () => {
    const { code, verifier } = await getCode(clientA);
    const t1 = (await (await redeem(clientA, code, verifier)).json()) as { access_token: string; refresh_token: string };
    const r2 = await token({ grant_type: 'refresh_token', refresh_token: t1.refresh_token, client_id: clientA.client_id, resource: gw.mcpUrl });
    const t2 = (await r2.json()) as { access_token: string; refresh_token: string };
    expect(t2.refresh_token).not.toBe(t1.refresh_token);
    const replay = await token({ grant_type: 'refresh_token', refresh_token: t1.refresh_token, client_id: clientA.client_id, resource: gw.mcpUrl });
    expect(replay.status).toBe(400);
    expect(await errorOf(replay)).toBe('invalid_grant');
    expect(await errorOf(await token({ grant_type: 'refresh_token', refresh_token: t2.refresh_token, client_id: clientA.client_id }))).toBe('invalid_grant');
    for (const at of [t1.access_token, t2.access_token]) expect((await mcp(at)).status).toBe(401);
    expect(await gw.auditKinds()).toContain('oauth.refresh_reuse');
  });

  it('racing the same refresh token: at most one request wins, and the race revokes the family', async () => {
    const { code, verifier } = await getCode(clientA);
    const t1 = (await (await redeem(clientA, code, verifier)).json()) as { access_token: string; refresh_token: string };
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        token({ grant_type: 'refresh_token', refresh_token: t1.refresh_token, client_id: clientA.client_id, resource: gw.mcpUrl }),
      ),
    );
    const bodies = (await Promise.all(results.map((r) => r.json()))) as { access_token?: string; refresh_token?: string; error?: string }[];
    const winners = bodies.filter((b) => b.access_token);
    expect(winners.length).toBeLessThanOrEqual(1);
    expect(bodies.filter((b) => b.error === 'invalid_grant').length).toBeGreaterThanOrEqual(5);
    for (const b of winners) {
      expect((await mcp(b.access_token as string)).status).toBe(401);
      expect(await errorOf(await token({ grant_type: 'refresh_token', refresh_token: b.refresh_token as string, client_id: clientA.client_id }))).toBe(
        'invalid_grant',
      );
    }
    expect((await mcp(t1.access_token)).status).toBe(401);
  });

  it('consent CSRF: a forged or cross-site consent is refused, and no code, grant or consent results', async () => {
    const browser = gw.browser();
    const { challenge } = pkce();
    let { response, url } = await browser.go(authorizeUrl(clientB, { code_challenge: challenge }));
    const [login] = forms(await response.text());
    ({ response, url } = await browser.submit(url, login!, { username: 'mallory', password: PASSWORD }));
    const page = await response.text();
    expect(page).toMatch(/<button type="submit" name="decision" value="allow" class="primary">Allow<\/button>/);
    const [consent] = forms(page);
    for (const [fields, headers] of [
      [{ csrf: 'forged' }, {}],
      [{ csrf: '' }, {}],
      [{}, { origin: 'https://attacker.example' }],
    ] as [Record<string, string>, Record<string, string>][]) {
      const res = await browser.request(new URL(consent!.action, url), {
        method: 'POST',
        body: new URLSearchParams({ ...consent!.fields, decision: 'allow', ...fields }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('location')).toBeNull();
    }
    // Without the victim's interaction cookie, even the right token does nothing.
    const stranger = gw.browser();
    const res = await stranger.request(new URL(consent!.action, url), {
      method: 'POST',
      body: new URLSearchParams({ ...consent!.fields, decision: 'allow' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(400);
    expect(await gw.assembly.storage.consents.get('mallory', clientB.client_id)).toBeUndefined();
    expect(await gw.assembly.oauthStore.grantIds('mallory', clientB.client_id)).toEqual([]);
  });

  it('a code issued to one client cannot be redeemed by another', async () => {
    const { code, verifier } = await getCode(clientA);
    const injected = await redeem(clientB, code, verifier, { redirect_uri: clientA.redirect_uris[0] });
    expect(injected.status).toBe(400);
    expect(await errorOf(injected)).toBe('invalid_grant');
    expect((await redeem(clientB, code, verifier)).status).toBe(400);
  });

  it('a disabled user cannot sign in, use tokens, or refresh; the refusal is a clear page', async () => {
    await gw.addUser('dora');
    const { code, verifier } = await getCode(clientA, {}, 'dora');
    const tokens = (await (await redeem(clientA, code, verifier)).json()) as { access_token: string; refresh_token: string };
    expect((await runCli(['users', 'disable', 'dora', '--data-dir', gw.dataDir])).code).toBe(0);
    expect((await mcp(tokens.access_token)).status).toBe(401);
    expect(await errorOf(await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientA.client_id }))).toBe(
      'invalid_grant',
    );
    const browser = gw.browser();
    const { response, url } = await browser.go(authorizeUrl(clientA, { code_challenge: pkce().challenge }));
    const [login] = forms(await response.text());
    const refused = await browser.submit(url, login!, { username: 'dora', password: PASSWORD });
    expect(refused.response.status).toBe(401);
    const text = await refused.response.text();
    expect(text).toContain('This account is disabled');
    expect(text).not.toMatch(/Error:|at \S+\.(js|ts):\d+/);
  });

  it('SSRF: a client metadata document on a private address is never fetched', async () => {
    const tls = await selfSignedCert();
    const docs = await documentServer(tls, new Map([['/client.json', { client_id: 'x', redirect_uris: ['http://127.0.0.1:1/cb'] }]]));
    try {
      const clientId = `${docs.origin}/client.json`;
      const res = await fetch(authorizeUrl({ client_id: clientId, redirect_uris: ['http://127.0.0.1:1/cb'] }, { code_challenge: pkce().challenge }), {
        redirect: 'manual',
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('invalid_client');
      expect(docs.hits).toEqual([]);
      // Metadata-service style targets are refused the same way.
      const metadata = await fetch(
        authorizeUrl(
          { client_id: 'https://169.254.169.254/latest/meta-data/client.json', redirect_uris: ['http://127.0.0.1:1/cb'] },
          { code_challenge: pkce().challenge },
        ),
        { redirect: 'manual' },
      );
      expect(metadata.status).toBe(400);
    } finally {
      await docs.close();
    }
  });

  it('never puts a token in a URL or accepts one from the query string', async () => {
    const { code, verifier, callback } = await getCode(clientA);
    expect([...callback.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
    const { access_token } = (await (await redeem(clientA, code, verifier)).json()) as { access_token: string };
    expect(decodeJwt(access_token).aud).toBe(gw.mcpUrl);
    const res = await fetch(`${gw.mcpUrl}?access_token=${access_token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{}',
    });
    expect(res.status).toBe(401);
  });
});
