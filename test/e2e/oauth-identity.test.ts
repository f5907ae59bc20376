import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTotp } from '../../src/identity/totp.js';
import { SqliteStorage } from '../../src/storage/index.js';
import { forms } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { OAuthGateway, PASSWORD, signIn } from '../helpers/oauth-gateway.js';

const MCP = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function registerClient(gw: OAuthGateway, redirect: string): Promise<string> {
  const res = await fetch(`${gw.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'identity test', redirect_uris: [redirect], token_endpoint_auth_method: 'none' }),
  });
  return ((await res.json()) as { client_id: string }).client_id;
}

/** Authorization URL plus the verifier to redeem its code. */
function authorization(gw: OAuthGateway, clientId: string, redirect: string, extra: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${gw.url}/oauth/authorize`);
  for (const [k, v] of Object.entries({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirect,
    scope: 'mcp',
    state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    resource: gw.mcpUrl,
    ...extra,
  }))
    url.searchParams.set(k, v);
  return { url, verifier };
}

async function redeem(gw: OAuthGateway, clientId: string, redirect: string, callback: URL, verifier: string) {
  const res = await fetch(`${gw.url}/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') as string,
      code_verifier: verifier,
      client_id: clientId,
      redirect_uri: redirect,
      resource: gw.mcpUrl,
    }),
  });
  return (await res.json()) as { access_token: string; refresh_token?: string; authorization_details?: unknown; error?: string };
}

async function openSession(gw: OAuthGateway, token: string): Promise<Response> {
  return fetch(gw.mcpUrl, {
    method: 'POST',
    headers: { ...MCP, authorization: `Bearer ${token}` },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    }),
  });
}

describe('who the users are: MFA, conditional access, memory-only mode, purpose-bound tokens, key rotation', () => {
  let gw: OAuthGateway;
  let clientId: string;
  const redirect = 'http://127.0.0.1:54001/cb';

  beforeAll(async () => {
    gw = await OAuthGateway.start({
      access: [{ allow: { groups: ['eng', 'admins', 'ops', 'short'], servers: ['*'] } }],
      identity: {
        conditionalAccess: {
          admins: { mfa: true },
          ops: { networks: ['10.0.0.0/8'] },
          short: { maxSessionAge: '2s' },
        },
      },
    });
    for (const [name, groups] of [
      ['alice', ['eng']],
      ['adam', ['admins']],
      ['olga', ['ops']],
      ['sam', ['short']],
    ] as const)
      await gw.addUser(name, [...groups]);
    clientId = await registerClient(gw, redirect);
  });
  afterAll(async () => gw.stop());

  it('TOTP: enrollment when a group requires MFA, a code at every later sign-in, amr in the token', async () => {
    const browser = gw.browser();
    const { url, verifier } = authorization(gw, clientId, redirect);
    const login = await browser.go(url);
    const enroll = await browser.submit(login.url, forms(await login.response.text())[0]!, { username: 'adam', password: PASSWORD });
    const enrollHtml = await enroll.response.text();
    expect(enrollHtml).toContain('<h1>Set up two-step verification</h1>');
    expect(enrollHtml).toMatch(/<label for="code">Authentication code<\/label>/);
    const secret = (/<dt>Key<\/dt><dd><code>([A-Z2-7 ]+)<\/code>/.exec(enrollHtml)?.[1] as string).replace(/ /g, '');
    const unescaped = enrollHtml.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
    expect(unescaped).toContain(`otpauth://totp/Gatehouse:adam?issuer=Gatehouse&secret=${secret}&algorithm=SHA1&digits=6&period=30`);
    const wrong = await browser.submit(enroll.url, forms(enrollHtml)[0]!, { code: '000000' });
    expect(wrong.response.status).toBe(401);
    expect((await gw.assembly.users.get('adam'))?.totpSecret).toBeNull();
    const enrollCode = currentTotp(secret);
    const consent = await browser.submit(enroll.url, forms(await wrong.response.text())[0]!, { code: enrollCode });
    const callback = await browser.submit(consent.url, forms(await consent.response.text())[0]!, { decision: 'allow' });
    const tokens = await redeem(gw, clientId, redirect, callback.url, verifier);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: 'adam', groups: ['admins'], amr: ['pwd', 'otp', 'mfa'] });
    expect((await gw.assembly.users.get('adam'))?.totpSecret).toBe(secret);

    // Next sign-in (new browser): password, then a code; a replayed code is refused (RFC 6238 §5.2).
    const next = gw.browser();
    const second = authorization(gw, clientId, redirect);
    const page = await next.go(second.url);
    const mfa = await next.submit(page.url, forms(await page.response.text())[0]!, { username: 'adam', password: PASSWORD });
    const mfaHtml = await mfa.response.text();
    expect(mfaHtml).toContain('<h1>Two-step verification</h1>');
    const replay = await next.submit(mfa.url, forms(mfaHtml)[0]!, { code: enrollCode });
    expect(replay.response.status).toBe(401);
    expect(await replay.response.text()).toContain('That code is not valid');
    expect(await gw.auditKinds()).toEqual(expect.arrayContaining(['auth.mfa_enrolled', 'auth.login_failed']));
  });

  it('networks: a group limited to 10.0.0.0/8 is refused from loopback, at sign-in and at /mcp', async () => {
    const browser = gw.browser();
    const { url } = authorization(gw, clientId, redirect);
    const login = await browser.go(url);
    const refused = await browser.submit(login.url, forms(await login.response.text())[0]!, { username: 'olga', password: PASSWORD });
    expect(refused.response.status).toBe(403);
    const html = await refused.response.text();
    expect(html).toContain('<h1>Access refused</h1>');
    expect(html).toContain('Access for group “ops” is allowed only from approved networks'.replace(/“|”/g, '"').replace(/"/g, '&#34;'));
    expect(html).not.toContain('127.0.0.1');
    const token = (await runCli(['token', 'issue', '--sub', 'olga', '--groups', 'ops', '--data-dir', gw.dataDir])).stdout.trim();
    const res = await openSession(gw, token);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'access_denied', code: 'identity.network_not_allowed' });
    expect(await gw.auditKinds()).toContain('auth.conditional_access_denied');
  });

  it('maximum session age: refreshing after it has passed is refused', async () => {
    const { url, verifier } = authorization(gw, clientId, redirect);
    const callback = await signIn(gw.browser(), url, { username: 'sam' });
    const tokens = await redeem(gw, clientId, redirect, callback, verifier);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const res = await fetch(`${gw.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: clientId }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('purpose-bound: authorization_details at authorize are shown at consent, carried in the token, and enforced per call', async () => {
    const details = [{ type: 'gatehouse_tool_call', server: 'db', tool: 'query', arguments: { limit: { maximum: 10 } } }];
    const browser = gw.browser();
    const { url, verifier } = authorization(gw, clientId, redirect, { authorization_details: JSON.stringify(details) });
    const login = await browser.go(url);
    const consent = await browser.submit(login.url, forms(await login.response.text())[0]!, { username: 'alice', password: PASSWORD });
    const html = await consent.response.text();
    expect(html).toContain('Only call “db__query” with limit ≤ 10');
    const callback = await browser.submit(consent.url, forms(html)[0]!, { decision: 'allow' });
    const tokens = await redeem(gw, clientId, redirect, callback.url, verifier);
    expect(tokens.authorization_details).toEqual(details);
    expect(decodeJwt(tokens.access_token).authorization_details).toEqual(details);

    const init = await openSession(gw, tokens.access_token);
    const sid = init.headers.get('mcp-session-id') as string;
    await init.text();
    const rpc = async (method: string, params: Record<string, unknown>) => {
      const res = await fetch(gw.mcpUrl, {
        method: 'POST',
        headers: { ...MCP, authorization: `Bearer ${tokens.access_token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method, params }),
      });
      return {
        status: res.status,
        body: (await res.json()) as { result?: { tools?: { name: string }[] }; error?: { code: number; data: { reason: string } } },
      };
    };
    expect((await rpc('tools/list', {})).body.result?.tools?.map((t) => t.name)).toEqual(['db__query']);
    const db = gw.connectors[1]!;
    const before = db.calls.length;
    expect((await rpc('tools/call', { name: 'db__query', arguments: { limit: 5 } })).body.result).toBeDefined();
    const over = await rpc('tools/call', { name: 'db__query', arguments: { limit: 50 } });
    expect(over.status).toBe(200);
    expect(over.body.error).toMatchObject({ code: -32003, data: { reason: 'authorization_details' } });
    expect((await rpc('tools/call', { name: 'db__drop', arguments: {} })).body.error?.data.reason).toBe('authorization_details');
    expect(db.calls.length).toBe(before + 1);
    expect((await gw.auditBodies('call.denied')).at(-1)).toMatchObject({
      actor: { sub: 'alice' },
      decision: { effect: 'deny', reason: 'authorization_details' },
    });
    // The approval was for this request only: the next plain request asks the user again.
    const again = await browser.go(authorization(gw, clientId, redirect).url);
    expect(await again.response.text()).toContain('name="decision"');
  });

  it('key rotation: tokens signed by the old key keep working until they expire; new ones use the new key', async () => {
    const { url, verifier } = authorization(gw, clientId, redirect);
    const old = await redeem(gw, clientId, redirect, await signIn(gw.browser(), url), verifier);
    const oldKid = decodeProtectedHeader(old.access_token).kid;
    // Rotated by the CLI, another process: the running gateway switches without a restart.
    const rotated = await runCli(['keys', 'rotate', '--data-dir', gw.dataDir, '--json']);
    expect(rotated.code).toBe(0);
    const { previous, current: newKid } = JSON.parse(rotated.stdout) as { previous: string; current: string };
    expect(previous).toBe(oldKid);
    const next = authorization(gw, clientId, redirect);
    const fresh = await redeem(gw, clientId, redirect, await signIn(gw.browser(), next.url), next.verifier);
    expect(decodeProtectedHeader(fresh.access_token).kid).toBe(newKid);
    const jwks = (await (await fetch(`${gw.url}/oauth/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    expect((await openSession(gw, old.access_token)).status).toBe(200);
    expect((await openSession(gw, fresh.access_token)).status).toBe(200);
  });

  it('a user added from the CLI signs in without a restart; revoking their MCP session from the CLI ends it and its authorization', async () => {
    expect((await runCli(['users', 'add', 'newbie', '--group', 'eng', '--data-dir', gw.dataDir, '--password-stdin'], `${PASSWORD}\n`)).code).toBe(0);
    const { url, verifier } = authorization(gw, clientId, redirect);
    const tokens = await redeem(gw, clientId, redirect, await signIn(gw.browser(), url, { username: 'newbie' }), verifier);
    const init = await openSession(gw, tokens.access_token);
    expect(init.status).toBe(200);
    const sid = init.headers.get('mcp-session-id') as string;
    await init.text();
    expect((await runCli(['revoke', '--session', sid, '--data-dir', gw.dataDir])).code).toBe(0);
    const ping = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP, authorization: `Bearer ${tokens.access_token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect([401, 404]).toContain(ping.status);
    expect(gw.assembly.sessions.get(sid)).toBeUndefined();
    // The token and the authorization that opened the session are revoked too.
    let status = 0;
    for (let i = 0; i < 20 && status !== 401; i++) {
      status = (await openSession(gw, tokens.access_token)).status;
      if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(401);
    const refresh = await fetch(`${gw.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: clientId }),
    });
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('tokens from `gatehouse token issue` keep working (same issuer and audience, base scope by default)', async () => {
    const cli = await runCli(['token', 'issue', '--sub', 'alice', '--groups', 'eng', '--data-dir', gw.dataDir]);
    expect(cli.code).toBe(0);
    expect(decodeJwt(cli.stdout.trim())).toMatchObject({ iss: gw.url, aud: gw.mcpUrl, scope: 'mcp', client_id: 'gatehouse-cli' });
    expect((await openSession(gw, cli.stdout.trim())).status).toBe(200);
  });
});

describe('memory-only mode', () => {
  it('issues no refresh tokens, writes nothing token-ish to disk, and forgets every sign-in on restart', async () => {
    const gw = await OAuthGateway.start({ oauth: { memoryOnly: true } });
    const dataDir = gw.dataDir;
    await gw.addUser('alice');
    const redirect = 'http://127.0.0.1:54002/cb';
    const clientId = await registerClient(gw, redirect);
    const browser = gw.browser();
    const { url, verifier } = authorization(gw, clientId, redirect);
    const tokens = await redeem(gw, clientId, redirect, await signIn(browser, url), verifier);
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeUndefined();
    expect((await openSession(gw, tokens.access_token)).status).toBe(200);
    const inspect = SqliteStorage.open(dataDir);
    const models = (inspect.sql.db.prepare('SELECT DISTINCT model FROM oauth_artifacts').all() as { model: string }[]).map((r) => r.model);
    expect(models).toEqual(['Client']);
    expect(await inspect.settings.get('oauth.cookie_key')).toBeUndefined();
    await inspect.close();
    const port = new URL(gw.url).port;
    await gw.stop();

    // Restart on the same data dir and port: the access token from before is refused, the
    // browser's sign-in is gone, and the registered client is still known.
    const again = await OAuthGateway.restart(dataDir, { listen: { host: '127.0.0.1', port: Number(port) }, oauth: { memoryOnly: true } });
    try {
      const res = await openSession(again, tokens.access_token);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'auth.token_revoked' });
      const relogin = await browser.go(authorization(again, clientId, redirect).url);
      expect(await relogin.response.text()).toContain('type="password"');
    } finally {
      await again.stop();
    }
  });
});
