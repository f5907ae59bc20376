import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forms } from '../helpers/browser.js';
import { FakeIdp, freePort } from '../helpers/fake-idp.js';
import { runCli } from '../helpers/cli.js';
import { OAuthGateway } from '../helpers/oauth-gateway.js';

const SECRET = 'idp-client-secret-value-4f1c9a';

describe('federation: sign-in through an upstream OpenID Connect IdP (a second oidc-provider on loopback)', () => {
  let gw: OAuthGateway;
  let idp: FakeIdp;
  let client: { client_id: string };
  const redirect = 'http://127.0.0.1:52001/cb';

  beforeAll(async () => {
    const port = await freePort();
    idp = await FakeIdp.start(`http://127.0.0.1:${port}/oauth/sso/callback`, SECRET, {
      carol: { preferred_username: 'carol', email: 'carol@acme.example', groups: ['acme-engineering', 'acme-all'], amr: ['pwd'] },
      dave: { preferred_username: 'dave', groups: ['acme-admins'], amr: ['pwd'] },
      erin: { preferred_username: 'erin', groups: ['acme-admins'], amr: ['pwd', 'mfa'] },
      alice: { preferred_username: 'alice', groups: ['acme-admins'], amr: ['pwd', 'mfa'] },
      // Another person at the IdP whose chosen name is also "carol": a different subject.
      'carol-2': { preferred_username: 'carol', email: 'someone-else@acme.example', groups: ['acme-admins'], amr: ['pwd', 'mfa'] },
    });
    gw = await OAuthGateway.start(
      {
        listen: { host: '127.0.0.1', port },
        identity: {
          upstream: {
            name: 'Acme SSO',
            issuer: idp.issuer,
            clientId: 'gatehouse',
            clientSecret: '${ACME_SSO_SECRET}',
            scopes: ['openid', 'profile', 'email', 'groups'],
            groupMap: { 'acme-engineering': 'eng', 'acme-admins': ['admins', 'eng'] },
            dangerouslyAllowHttpIssuer: true,
          },
          conditionalAccess: { admins: { mfa: true } },
        },
        // The test IdP listens on loopback: allowed explicitly, as an operator would.
        egress: { allowAddresses: ['127.0.0.1/32'] },
      },
      undefined,
      { ACME_SSO_SECRET: SECRET },
    );
    await gw.addUser('alice');
    client = (await (
      await fetch(`${gw.url}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'fed test', redirect_uris: [redirect], token_endpoint_auth_method: 'none' }),
      })
    ).json()) as { client_id: string };
  });
  afterAll(async () => {
    await gw.stop();
    await idp.stop();
  });

  /** Opens the authorization URL, clicks "Sign in with Acme SSO", and follows through the IdP back to the gateway. */
  async function ssoSignIn(user: string) {
    idp.current = user;
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${gw.url}/oauth/authorize`);
    for (const [k, v] of Object.entries({
      client_id: client.client_id,
      response_type: 'code',
      redirect_uri: redirect,
      scope: 'mcp',
      state: 's1',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: gw.mcpUrl,
    }))
      url.searchParams.set(k, v);
    const origins = new Set([new URL(gw.url).origin, new URL(idp.issuer).origin]);
    const browser = new (gw.browser().constructor as typeof import('../helpers/browser.js').Browser)((u) => origins.has(u.origin));
    const login = await browser.go(url);
    const page = await login.response.text();
    expect(page).toContain('Sign in with Acme SSO');
    const href = /href="(\/interaction\/[^"]+\/sso)"/.exec(page)?.[1] as string;
    const back = await browser.go(new URL(href, login.url));
    return { browser, back, verifier };
  }

  it('maps the IdP user and groups, finishes with Gatehouse consent, and never passes the IdP tokens on', async () => {
    const { browser, back, verifier } = await ssoSignIn('carol');
    const consentPage = await back.response.text();
    expect(back.url.pathname).toMatch(/^\/interaction\//);
    const [consent] = forms(consentPage);
    const done = await browser.submit(back.url, consent!, { decision: 'allow' });
    const code = done.url.searchParams.get('code') as string;
    const res = await fetch(`${gw.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        client_id: client.client_id,
        redirect_uri: redirect,
        resource: gw.mcpUrl,
      }),
    });
    const tokenText = await res.text();
    const { access_token } = JSON.parse(tokenText) as { access_token: string };
    expect(decodeJwt(access_token)).toMatchObject({ sub: 'carol', groups: ['eng'], amr: ['fed'], iss: gw.url, aud: gw.mcpUrl });
    expect(await gw.assembly.users.get('carol')).toMatchObject({
      source: 'federated',
      groups: ['eng'],
      passwordHash: null,
      attributes: { email: 'carol@acme.example', idp: idp.issuer, idp_sub: 'carol' },
    });

    // The IdP's tokens stay inside Gatehouse: not in what the client gets, not in the token,
    // not in the audit log, not on disk.
    expect(idp.issued.length).toBeGreaterThanOrEqual(2);
    await gw.assembly.audit.flush();
    const audit = JSON.stringify(await gw.assembly.storage.audit.query({ limit: 100_000 }));
    const db =
      readFileSync(path.join(gw.dataDir, 'gatehouse.db')).toString('latin1') + readFileSync(path.join(gw.dataDir, 'gatehouse.db-wal')).toString('latin1');
    // Nor does Gatehouse's own client secret at the IdP.
    expect(audit).not.toContain(SECRET);
    expect(db).not.toContain(SECRET);
    for (const upstreamToken of idp.issued) {
      expect(tokenText).not.toContain(upstreamToken);
      expect(audit).not.toContain(upstreamToken);
      expect(db).not.toContain(upstreamToken);
      for (const entry of browser.history) expect(entry.url).not.toContain(upstreamToken);
    }
    const logins = await gw.auditBodies('auth.login');
    expect(logins.at(-1)).toMatchObject({ actor: { sub: 'carol', groups: ['eng'] }, via: 'sso', amr: ['fed'] });
  });

  it("the IdP's state is single-use: replaying the callback does nothing", async () => {
    const { browser } = await ssoSignIn('carol');
    const callback = browser.history.find((h) => h.url.includes('/oauth/sso/callback'))?.url as string;
    const replay = await browser.request(callback);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('Sign-in expired');
    const stranger = await gw.browser().request(callback);
    expect(stranger.status).toBe(400);
  });

  it('applies conditional access to federated users: MFA from the IdP counts, its absence is refused with a clear page', async () => {
    const refused = await ssoSignIn('dave');
    expect(refused.back.response.status).toBe(403);
    const page = await refused.back.response.text();
    expect(page).toContain('require multi-factor authentication');
    expect(page).toContain('identity.mfa_required');
    expect(page).not.toMatch(/at \S+\.(js|ts):\d+/);
    const abort = forms(page)[0]!;
    const back = await refused.browser.submit(refused.back.url, abort);
    expect(back.url.searchParams.get('error')).toBe('access_denied');
    expect(back.url.searchParams.get('code')).toBeNull();

    const ok = await ssoSignIn('erin');
    expect(ok.back.response.status).toBe(200);
    expect(await ok.back.response.text()).toContain('name="decision"');
    expect(await gw.assembly.users.get('erin')).toMatchObject({ groups: ['admins', 'eng'] });
  });

  it('the console: a step-up sends a federated user back to the IdP (prompt=login) and needs the IdP to report a second factor', async () => {
    async function consoleStepUp(user: string) {
      idp.current = user;
      const origins = new Set([new URL(gw.url).origin, new URL(idp.issuer).origin]);
      const browser = new (gw.browser().constructor as typeof import('../helpers/browser.js').Browser)((u) => origins.has(u.origin));
      const login = await browser.go(`${gw.url}/account/sign-in?return_to=%2Fconsole%2Fapprovals&mfa=1`);
      const page = await login.response.text();
      expect(page).toContain('Confirm it is you: sign in again, then enter a code from your authenticator app.');
      const href = /href="(\/interaction\/[^"]+\/sso)"/.exec(page)?.[1] as string;
      const before = idp.prompts.length;
      const back = await browser.go(new URL(href, login.url));
      expect(idp.prompts.slice(before)).toEqual(['login']);
      return { back, html: await back.response.text() };
    }
    // erin's IdP reports MFA: back on the console, signed in, with her mapped groups.
    const erin = await consoleStepUp('erin');
    expect(erin.back.url.pathname).toBe('/console/approvals');
    expect(erin.html).toContain('Signed in as <strong>erin</strong>');
    expect(await gw.assembly.users.get('erin')).toMatchObject({ source: 'federated', groups: ['admins', 'eng'] });
    // carol's does not: a step-up without a second factor is refused with a clear page.
    const carol = await consoleStepUp('carol');
    expect(carol.back.response.status).toBe(403);
    expect(carol.html).toContain('This page needs a sign-in with a second factor, and none was presented.');
    expect(carol.html).toContain('identity.mfa_required');
  });

  it('will not let single sign-on take over a local account of the same name; the refusal is audited', async () => {
    const { back } = await ssoSignIn('alice');
    expect(back.response.status).toBe(403);
    expect(await back.response.text()).toContain('identity.sso_conflict');
    expect(await gw.assembly.users.get('alice')).toMatchObject({ source: 'local', groups: ['eng'] });
    expect((await gw.auditBodies('identity.link_refused')).at(-1)).toMatchObject({
      identity: { issuer: idp.issuer, subject: 'alice', username: 'alice' },
      holder: 'local',
      outcome: { status: 'denied', code: 'identity.sso_conflict' },
    });
  });

  it('keys federated users by (issuer, subject): a second subject named "carol" is refused, audited, and gets nothing of carol\'s', async () => {
    // carol (subject "carol") exists from the first sign-in, with her consent to this client.
    expect(await gw.assembly.users.get('carol')).toMatchObject({ source: 'federated', groups: ['eng'] });
    expect(await gw.assembly.storage.consents.get('carol', client.client_id)).toBeDefined();
    const logins = (await gw.auditBodies('auth.login')).length;

    const { browser, back } = await ssoSignIn('carol-2');
    expect(back.response.status).toBe(403);
    const page = await back.response.text();
    expect(page).toContain('identity.sso_conflict');
    expect(page).toContain('is not linked to your single sign-on identity');
    // No sign-in happened: no login record, no code for the client (carol's consent would have
    // skipped the consent page), and carol's record keeps her own groups.
    expect((await gw.auditBodies('auth.login')).length).toBe(logins);
    expect(browser.history.some((h) => h.url.startsWith(redirect))).toBe(false);
    expect(await gw.assembly.users.get('carol')).toMatchObject({ groups: ['eng'], attributes: { email: 'carol@acme.example', idp_sub: 'carol' } });
    expect((await gw.auditBodies('identity.link_refused')).at(-1)).toMatchObject({
      identity: { issuer: idp.issuer, subject: 'carol-2', username: 'carol' },
      holder: 'federated',
    });
    const abort = await browser.submit(back.url, forms(page)[0]!);
    expect(abort.url.searchParams.get('error')).toBe('access_denied');
    expect(abort.url.searchParams.get('code')).toBeNull();

    // The original subject keeps working.
    const original = await ssoSignIn('carol');
    expect(original.back.response.status).toBeLessThan(400);
    expect((await gw.auditBodies('auth.login')).at(-1)).toMatchObject({ actor: { sub: 'carol' }, via: 'sso' });
  });

  it('after the operator links an identity (`users link`), it signs in as that user; unlinking ends that', async () => {
    const linked = await runCli(['users', 'link', 'alice', '--issuer', idp.issuer, '--subject', 'alice', '--data-dir', gw.dataDir, '--json']);
    expect(linked.code).toBe(0);
    const { back } = await ssoSignIn('alice');
    expect(back.response.status).toBe(200);
    expect(await back.response.text()).toContain('name="decision"');
    const login = (await gw.auditBodies('auth.login')).at(-1);
    // A linked local account keeps the groups the operator gave it; the IdP only authenticates.
    expect(login).toMatchObject({ actor: { sub: 'alice', groups: ['eng'] }, via: 'sso', amr: ['fed', 'mfa'] });
    expect(await gw.assembly.users.get('alice')).toMatchObject({ source: 'local', groups: ['eng'] });

    expect((await runCli(['users', 'unlink', 'alice', '--issuer', idp.issuer, '--subject', 'alice', '--data-dir', gw.dataDir])).code).toBe(0);
    expect((await ssoSignIn('alice')).back.response.status).toBe(403);
  });
});
