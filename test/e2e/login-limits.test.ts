import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTotp } from '../../src/identity/totp.js';
import { SqliteStorage } from '../../src/storage/index.js';
import { forms, type Browser, type Form } from '../helpers/browser.js';
import { ROOT } from '../helpers/cli-process.js';
import { OAuthGateway, PASSWORD } from '../helpers/oauth-gateway.js';

async function registerClient(gw: OAuthGateway, redirect: string): Promise<string> {
  const res = await fetch(`${gw.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'limits test', redirect_uris: [redirect], token_endpoint_auth_method: 'none' }),
  });
  return ((await res.json()) as { client_id: string }).client_id;
}

function authorizationUrl(gw: OAuthGateway, clientId: string, redirect: string): URL {
  const url = new URL(`${gw.url}/oauth/authorize`);
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  for (const [k, v] of Object.entries({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirect,
    scope: 'mcp',
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: gw.mcpUrl,
  }))
    url.searchParams.set(k, v);
  return url;
}

/** A fresh browser on the sign-in page of a new authorization. */
async function loginPage(gw: OAuthGateway, clientId: string, redirect: string): Promise<{ browser: Browser; url: URL; form: Form }> {
  const browser = gw.browser();
  const page = await browser.go(authorizationUrl(gw, clientId, redirect));
  const [form] = forms(await page.response.text());
  return { browser, url: page.url, form: form as Form };
}

describe('sign-in lockout cannot be raced', () => {
  let gw: OAuthGateway;
  let clientId: string;
  const redirect = 'http://127.0.0.1:56001/cb';

  beforeAll(async () => {
    gw = await OAuthGateway.start({
      access: [{ allow: { groups: ['eng', 'admins'], servers: ['*'] } }],
      identity: { conditionalAccess: { admins: { mfa: true } } },
    });
    await gw.addUser('alice');
    await gw.addUser('adam', ['admins']);
    clientId = await registerClient(gw, redirect);
  });
  afterAll(async () => gw.stop());

  it('40 concurrent wrong passwords at the login form: exactly 5 are checked, the rest refused; then the right password is refused too', async () => {
    const { browser, url, form } = await loginPage(gw, clientId, redirect);
    const before = (await gw.auditBodies('auth.login_failed')).length;
    const wrong = await Promise.all(Array.from({ length: 40 }, (_, i) => browser.submit(url, form, { username: 'alice', password: `wrong password ${i}` })));
    const statuses = wrong.map((r) => r.response.status);
    // Four plain failures, the fifth locks (429), and 35 were refused without being checked.
    expect(statuses.filter((s) => s === 401)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(36);
    const alice = await gw.assembly.users.get('alice');
    expect(alice).toMatchObject({ failedAttempts: 5 });
    expect(alice?.lockedUntil).toBeGreaterThan(Date.now());
    const right = await browser.submit(url, form, { username: 'alice', password: PASSWORD });
    expect(right.response.status).toBe(429);
    expect(await right.response.text()).toContain('Too many failed attempts');
    const failures = (await gw.auditBodies('auth.login_failed')).slice(before) as { outcome: { code: string } }[];
    expect(failures.filter((f) => f.outcome.code === 'identity.invalid')).toHaveLength(4);
    expect(failures.filter((f) => f.outcome.code === 'identity.locked')).toHaveLength(37);
    expect(await gw.auditKinds()).not.toContain('auth.login');
  });

  it('TOTP: concurrent codes beyond the threshold are refused unchecked, and the right code is refused while locked', async () => {
    // adam must enroll (admins need MFA): enroll, sign in, then a new sign-in asks for a code.
    const first = await loginPage(gw, clientId, redirect);
    const enroll = await first.browser.submit(first.url, first.form, { username: 'adam', password: PASSWORD });
    const enrollHtml = await enroll.response.text();
    const secret = (/<dt>Key<\/dt><dd><code>([A-Z2-7 ]+)<\/code>/.exec(enrollHtml)?.[1] as string).replace(/ /g, '');
    await first.browser.submit(enroll.url, forms(enrollHtml)[0] as Form, { code: currentTotp(secret) });
    const second = await loginPage(gw, clientId, redirect);
    const mfa = await second.browser.submit(second.url, second.form, { username: 'adam', password: PASSWORD });
    const mfaForm = forms(await mfa.response.text())[0] as Form;
    const guesses = await Promise.all(Array.from({ length: 20 }, () => second.browser.submit(mfa.url, mfaForm, { code: '000000' })));
    const statuses = guesses.map((g) => g.response.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(16);
    const adam = await gw.assembly.users.get('adam');
    expect(adam?.failedAttempts).toBe(5);
    const right = await second.browser.submit(mfa.url, mfaForm, { code: currentTotp(secret, Date.now() + 30_000) });
    expect(right.response.status).toBe(429);
  });

  it('two processes sharing the data dir: concurrent guesses in both are counted once, together', async () => {
    await gw.assembly.storage.users.create(
      { name: 'bob', source: 'local', groups: [], passwordHash: (await gw.assembly.users.get('alice'))?.passwordHash ?? null },
      Date.now(),
    );
    const dist = (p: string) => pathToFileURL(path.join(ROOT, 'dist', p)).href;
    const script = `
      const { SqliteStorage } = await import(${JSON.stringify(dist('storage/index.js'))});
      const { UserDirectory } = await import(${JSON.stringify(dist('identity/users.js'))});
      const storage = SqliteStorage.open(process.argv[1]);
      const users = new UserDirectory(storage.users, { threshold: 5, baseDelayMs: 30000, maxDelayMs: 900000 });
      const results = await Promise.all(Array.from({ length: 15 }, (_, i) => users.checkPassword('bob', 'wrong password ' + i)));
      await storage.close();
      process.stdout.write(JSON.stringify(results.map((r) => r.ok ? 'ok' : r.reason)));`;
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, gw.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`child exited ${code}: ${err}`))));
      });
    // Two other processes, and this gateway's own directory, all at once.
    const [a, b, own] = await Promise.all([
      run(),
      run(),
      Promise.all(Array.from({ length: 10 }, (_, i) => gw.assembly.users.checkPassword('bob', `wrong ${i}`))),
    ]);
    const all = [...a, ...b, ...own.map((r) => (r.ok ? 'ok' : r.reason))];
    expect(all).toHaveLength(40);
    expect(all.filter((r) => r === 'invalid')).toHaveLength(4);
    expect(all.filter((r) => r === 'locked')).toHaveLength(36);
    const reader = SqliteStorage.open(gw.dataDir);
    try {
      expect(await reader.users.get('bob')).toMatchObject({ failedAttempts: 5 });
    } finally {
      await reader.close();
    }
  });
});

describe('every field of the unauthenticated pages is bounded before it is used', () => {
  let gw: OAuthGateway;
  let clientId: string;
  const redirect = 'http://127.0.0.1:56002/cb';
  const MARK = 'OVERSIZED-9c41e7';
  const long = (n: number) => `${MARK}${'x'.repeat(n - MARK.length)}`;

  beforeAll(async () => {
    gw = await OAuthGateway.start();
    await gw.addUser('alice');
    clientId = await registerClient(gw, redirect);
  });
  afterAll(async () => gw.stop());

  /** Nothing of the oversized values reached the audit log, and no record was written for them. */
  async function expectNothingRecorded(since: number): Promise<void> {
    const kinds = await gw.auditKinds();
    expect(kinds.slice(since)).toEqual([]);
    await gw.assembly.audit.flush();
    expect(JSON.stringify(await gw.assembly.storage.audit.query({ limit: 100_000 }))).not.toContain(MARK);
  }

  it('the sign-in form: over-long username, password, form token or extra field → 400 page; nothing checked, counted or audited', async () => {
    const { browser, url, form } = await loginPage(gw, clientId, redirect);
    const since = (await gw.auditKinds()).length;
    for (const [overrides, field] of [
      [{ username: long(129), password: PASSWORD }, 'username'],
      [{ username: 'alice', password: long(1025) }, 'password'],
      [{ username: 'alice', password: PASSWORD, csrf: long(129) }, 'form token'],
      [{ username: 'alice', password: PASSWORD, extra: long(257) }, 'A field'],
    ] as const) {
      const res = await browser.submit(url, form, overrides);
      expect(res.response.status).toBe(400);
      const page = await res.response.text();
      expect(page).toContain('interaction.field_too_long');
      expect(page).toContain(field);
      expect(page).not.toContain(MARK);
    }
    expect(await gw.assembly.users.get('alice')).toMatchObject({ failedAttempts: 0 });
    await expectNothingRecorded(since);
    // At the limits, the form is processed as usual.
    const atLimit = await browser.submit(url, form, { username: 'alice', password: 'p'.repeat(1024) });
    expect(atLimit.response.status).toBe(401);
    expect(await gw.assembly.users.get('alice')).toMatchObject({ failedAttempts: 1 });
  });

  it('the body: too large (declared or streamed), too many or repeated fields, or not a form → refused before parsing', async () => {
    const { browser, url, form } = await loginPage(gw, clientId, redirect);
    const since = (await gw.auditKinds()).length;
    const action = new URL(form.action, url);
    const post = (body: BodyInit, headers: Record<string, string> = {}) =>
      browser.request(action, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: action.origin, ...headers },
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    const big = new URLSearchParams({ ...form.fields, username: 'alice', password: PASSWORD, pad: long(20_000) }).toString();
    expect((await post(big)).status).toBe(413);
    // No Content-Length (chunked): cut off at the cap while reading.
    const chunks = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < chunks.length; i += 1024) controller.enqueue(chunks.slice(i, i + 1024));
        controller.close();
      },
    });
    expect((await post(stream)).status).toBe(413);
    const many = new URLSearchParams(form.fields);
    for (let i = 0; i < 20; i++) many.append(`f${i}`, 'x');
    expect((await post(many.toString())).status).toBe(400);
    const repeated = new URLSearchParams({ ...form.fields, username: 'alice', password: PASSWORD });
    repeated.append('username', 'mallory');
    expect((await post(repeated.toString())).status).toBe(400);
    const multipart = new FormData();
    multipart.set('csrf', form.fields.csrf as string);
    const refused = await browser.request(action, { method: 'POST', body: multipart, headers: { origin: action.origin } });
    expect(refused.status).toBe(415);
    expect(await gw.assembly.users.get('alice')).toMatchObject({ failedAttempts: 1 });
    await expectNothingRecorded(since);
  });

  it('the code and consent forms, the single sign-on callback and the account pages are bounded too', async () => {
    // Consent: sign in, then an over-long decision.
    const { browser, url, form } = await loginPage(gw, clientId, redirect);
    const consent = await browser.submit(url, form, { username: 'alice', password: PASSWORD });
    const consentForm = forms(await consent.response.text())[0] as Form;
    expect(consentForm.fields).toHaveProperty('csrf');
    const since = (await gw.auditKinds()).length;
    const tooLong = await browser.submit(consent.url, consentForm, { decision: long(17) });
    expect(tooLong.response.status).toBe(400);
    expect(await tooLong.response.text()).toContain('interaction.field_too_long');
    // The single sign-on callback (every parameter, before the state is even looked up).
    for (const query of [`state=${long(129)}`, `state=abc&code=${long(5000)}`, `state=abc&error_description=${long(1025)}`]) {
      const res = await fetch(`${gw.url}/oauth/sso/callback?${query}`);
      expect(res.status).toBe(400);
      expect(await res.text()).not.toContain(MARK);
    }
    // The account sign-in and its callback (whose error text is shown on the page).
    expect((await fetch(`${gw.url}/account/sign-in?return_to=${long(2049)}`, { redirect: 'manual' })).status).toBe(400);
    const callback = await fetch(`${gw.url}/account/callback?state=x&error=access_denied&error_description=${long(1025)}`);
    expect(callback.status).toBe(400);
    expect(await callback.text()).not.toContain(MARK);
    // An interaction id that cannot be one is no interaction.
    expect((await fetch(`${gw.url}/interaction/${long(100)}`)).status).toBe(400);
    await expectNothingRecorded(since);
    // The consent still works with a normal answer.
    const done = await browser.submit(consent.url, consentForm, { decision: 'allow' });
    expect(done.url.searchParams.get('code')).toBeTruthy();
  });

  it('the TOTP form: an over-long code is refused without counting an attempt', async () => {
    const gw2 = await OAuthGateway.start({
      access: [{ allow: { groups: ['admins'], servers: ['*'] } }],
      identity: { conditionalAccess: { admins: { mfa: true } } },
    });
    try {
      await gw2.addUser('adam', ['admins']);
      const client = await registerClient(gw2, redirect);
      const { browser, url, form } = await loginPage(gw2, client, redirect);
      const enroll = await browser.submit(url, form, { username: 'adam', password: PASSWORD });
      const enrollForm = forms(await enroll.response.text())[0] as Form;
      const before = await gw2.assembly.users.get('adam');
      const res = await browser.submit(enroll.url, enrollForm, { code: long(17) });
      expect(res.response.status).toBe(400);
      expect(await res.response.text()).toContain('The code is too long (at most 16 characters).');
      expect((await gw2.assembly.users.get('adam'))?.failedAttempts).toBe(before?.failedAttempts);
      await gw2.assembly.audit.flush();
      expect(JSON.stringify(await gw2.assembly.storage.audit.query({ limit: 100_000 }))).not.toContain(MARK);
    } finally {
      await gw2.stop();
    }
  });
});
