import type { Context } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeConnector } from '../../test/helpers/fake-connector.js';
import { Harness, PUBLIC_URL, HOST } from '../../test/helpers/gateway-harness.js';
import { STARTER_POLICIES } from '../../test/helpers/policy-fixtures.js';
import { argumentsView } from '../approvals/index.js';
import { registerCredential, unregisterCredential } from '../log/index.js';
import type { ApprovalRecord } from '../storage/index.js';
import { ConsoleAccessError, type ConsoleAuth, type ConsoleUser } from './console-auth.js';

/** Test double for the console sign-in session: the cookie `test-session=<sub>` signs that person in. */
const people: Record<string, Omit<ConsoleUser, 'sessionId'>> = {
  carol: { sub: 'carol', groups: ['sre'], mfaAt: Date.now() },
  alice: { sub: 'alice', groups: ['eng', 'oncall'], mfaAt: Date.now() },
  mallory: { sub: 'mallory', groups: ['eng'], mfaAt: Date.now() },
  stale: { sub: 'stale', groups: ['sre'], mfaAt: Date.now() - 60 * 60_000 },
};
const auth: ConsoleAuth = {
  currentUser(c: Context) {
    const sub = /test-session=([a-z]+)/.exec(c.req.header('cookie') ?? '')?.[1];
    const person = sub ? people[sub] : undefined;
    return person ? { ...person, sessionId: `session-${sub}` } : undefined;
  },
  loginUrl: (returnTo, { mfa }) => `/login?return_to=${encodeURIComponent(returnTo)}${mfa ? '&mfa=1' : ''}`,
};

describe('console approval pages', () => {
  let h: Harness;
  let echo: FakeConnector;
  let id: string;

  beforeEach(async () => {
    echo = new FakeConnector('echo', [{ name: 'delete_everything', annotations: { destructiveHint: true } }]);
    h = await Harness.create(
      {
        servers: { echo: { command: 'unused' } },
        policies: STARTER_POLICIES,
        rateLimits: { enabled: false },
        approvals: { approvers: { echo: { groups: ['sre'] } }, breakGlass: { groups: ['oncall'] }, wait: '50ms' },
      },
      [echo],
      { consoleAuth: auth },
    );
    const token = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(token);
    const res = await h.rpc(token, sid, 'tools/call', {
      name: 'delete_everything',
      arguments: { scope: 'all', _gatehouse_reason: '<script>alert(1)</script> please' },
    });
    id = ((res.response.result as { _meta: Record<string, { id: string }> })._meta['gatehouse/approval'] as { id: string }).id;
  });
  afterEach(async () => h.close());

  const get = (path: string, who?: string, headers: Record<string, string> = {}) =>
    Promise.resolve(h.assembly.app.request(`${PUBLIC_URL}${path}`, { headers: { host: HOST, ...(who ? { cookie: `test-session=${who}` } : {}), ...headers } }));
  const csrfOf = async (who: string) => /name="csrf" value="([^"]+)"/.exec(await (await get(`/console/approvals/${id}`, who)).text())?.[1] as string;
  const post = (who: string | undefined, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    Promise.resolve(
      h.assembly.app.request(`${PUBLIC_URL}/console/approvals/${id}`, {
        method: 'POST',
        headers: {
          host: HOST,
          origin: PUBLIC_URL,
          'content-type': 'application/x-www-form-urlencoded',
          ...(who ? { cookie: `test-session=${who}` } : {}),
          ...headers,
        },
        body: new URLSearchParams(fields).toString(),
      }),
    );
  const refusals = async () => {
    await h.assembly.audit.flush();
    return (await h.assembly.storage.audit.query({ kinds: ['approval.refused'] })).map(
      (r) => (JSON.parse(r.body) as { actor: { sub: string }; outcome: { code: string } }).outcome.code,
    );
  };
  const status = async () => (await h.assembly.storage.approvals.get(id))?.status;

  it('shows an approver the request — arguments, hash, and the agent’s reason escaped — with strict headers', async () => {
    const res = await get(`/console/approvals/${id}`, 'carol');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const body = await res.text();
    expect(body).toContain('echo__delete_everything');
    expect(body).toContain('&quot;scope&quot;: &quot;all&quot;');
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; please');
    expect(body).not.toContain('<script>');
    expect(body).toMatch(/<button class="approve" type="submit" name="decision" value="approve">Approve<\/button>/);
    const list = await (await get('/console/approvals', 'carol')).text();
    expect(list).toContain(id);
  });

  it('approves with a fresh second factor, a session-bound CSRF token and a same-origin post; the agent’s retry then runs', async () => {
    const res = await post('carol', { csrf: await csrfOf('carol'), decision: 'approve', note: 'checked' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/console/approvals/${id}?done=approved`);
    expect(await h.assembly.storage.approvals.get(id)).toMatchObject({ status: 'approved', decidedBy: 'carol', decidedVia: 'console', note: 'checked' });
    const token = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(token);
    const retry = await h.rpc(token, sid, 'tools/call', { name: 'delete_everything', arguments: { scope: 'all' } });
    expect(retry.response.result).toMatchObject({ content: [{ text: 'delete_everything:{"scope":"all"}' }] });
  });

  it('refuses an agent token: a bearer header never decides anything (audited)', async () => {
    const token = await h.token('carol', { groups: ['sre'] });
    const res = await post(undefined, { decision: 'approve' }, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('an agent can never approve anything');
    // Even with a valid console session alongside it.
    expect((await post('carol', { csrf: await csrfOf('carol'), decision: 'approve' }, { authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await get(`/console/approvals/${id}`, undefined, { authorization: `Bearer ${token}` })).status).toBe(401);
    expect(await status()).toBe('pending');
    expect(await refusals()).toEqual(['agent_token', 'agent_token']);
  });

  it('refuses self-approval of a four-eyes request (no Approve button, and a crafted post fails)', async () => {
    const page = await (await get(`/console/approvals/${id}`, 'alice')).text();
    expect(page).not.toContain('value="approve">Approve');
    expect(page).toContain('you cannot approve your own request');
    const res = await post('alice', { csrf: await csrfOf('alice'), decision: 'approve' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('must be approved by someone other than the requester');
    expect(await status()).toBe('pending');
    expect(await refusals()).toEqual(['self_approval']);
  });

  it('refuses someone without the approver role, who cannot even see the request', async () => {
    expect((await get(`/console/approvals/${id}`, 'mallory')).status).toBe(404);
    const csrf = (await csrfOf('carol')) as string; // a token from another session does not help
    expect((await post('mallory', { csrf, decision: 'approve' })).status).toBe(403);
    const forged = await post('mallory', { csrf: 'x', decision: 'approve' });
    expect(forged.status).toBe(403);
    expect(await status()).toBe('pending');
    expect(await refusals()).toEqual(['csrf_failed', 'csrf_failed']);
  });

  it('refuses a decision without a fresh second factor, without a session, or from another origin', async () => {
    const stale = await post('stale', { csrf: await csrfOf('stale'), decision: 'approve' });
    expect(stale.status).toBe(403);
    expect(await stale.text()).toContain('/login?return_to=%2Fconsole%2Fapprovals%2F');
    expect((await post(undefined, { decision: 'approve' })).status).toBe(401);
    expect((await post('carol', { csrf: await csrfOf('carol'), decision: 'approve' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post('carol', { csrf: await csrfOf('carol'), decision: 'approve' }, { origin: 'http://127.0.0.1:9999' })).status).toBe(403);
    expect(await status()).toBe('pending');
    expect(await refusals()).toEqual(['mfa_required', 'not_signed_in']);
  });

  it('break-glass: the requester with the role approves their own request with a written reason', async () => {
    const page = await (await get(`/console/approvals/${id}`, 'alice')).text();
    expect(page).toContain('Break glass and approve');
    const csrf = await csrfOf('alice');
    expect((await post('alice', { csrf, decision: 'approve', breakGlass: 'on', reason: 'short' })).status).toBe(403);
    const res = await post('alice', { csrf, decision: 'approve', breakGlass: 'on', reason: 'production outage INC-4711, no approver awake' });
    expect(res.status).toBe(303);
    expect(await h.assembly.storage.approvals.get(id)).toMatchObject({ status: 'approved', breakGlass: true, decidedBy: 'alice' });
    await h.assembly.audit.flush();
    expect(await h.assembly.storage.audit.query({ kinds: ['approval.break_glass'] })).toHaveLength(1);
  });

  it('sends a visitor who is not signed in to the sign-in, which comes back to the page', async () => {
    const res = await get(`/console/approvals/${id}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/login?return_to=%2Fconsole%2Fapprovals%2F${id}`);
    // A form post cannot be carried through a sign-in: it says so, with the link, and decides nothing.
    const posted = await post(undefined, { decision: 'approve' });
    expect(posted.status).toBe(401);
    expect(await posted.text()).toContain(`href="/login?return_to=%2Fconsole%2Fapprovals%2F${id}"`);
    expect(await status()).toBe('pending');
  });

  it('offers the step-up before anyone presses a button when the second factor is stale', async () => {
    const page = await (await get(`/console/approvals/${id}`, 'stale')).text();
    expect(page).toContain('Deciding needs a second factor presented in the last 15 minutes.');
    expect(page).toContain(`<a href="/login?return_to=%2Fconsole%2Fapprovals%2F${id}&amp;mfa=1">Confirm with your second factor</a>`);
    expect(await (await get(`/console/approvals/${id}`, 'carol')).text()).not.toContain('Confirm with your second factor');
  });

  it('is wired to the authorization server’s sign-in by default, and says so when there is none', async () => {
    const config = {
      servers: { echo: { command: 'unused' } },
      policies: STARTER_POLICIES,
      rateLimits: { enabled: false },
      approvals: { approvers: { echo: { groups: ['sre'] } } },
    };
    await h.close();
    h = await Harness.create(config, [new FakeConnector('echo', [])]);
    const signIn = await get('/console/approvals');
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/account/sign-in?return_to=%2Fconsole%2Fapprovals');
    await h.close();
    h = await Harness.create({ ...config, oauth: { enabled: false } }, [new FakeConnector('echo', [])]);
    const none = await get('/console/approvals');
    expect(none.status).toBe(401);
    expect(await none.text()).toContain('This gateway has no console sign-in');
  });

  it('refuses someone the sign-in refuses outright (conditional access), audited', async () => {
    const refusing: ConsoleAuth = {
      currentUser: () => {
        throw new ConsoleAccessError('identity.network_not_allowed', 'Access for group "sre" is allowed only from approved networks.');
      },
    };
    await h.close();
    h = await Harness.create(
      {
        servers: { echo: { command: 'unused' } },
        policies: STARTER_POLICIES,
        rateLimits: { enabled: false },
        approvals: { approvers: { echo: { groups: ['sre'] } }, wait: '50ms' },
      },
      [new FakeConnector('echo', [{ name: 'delete_everything', annotations: { destructiveHint: true } }])],
      { consoleAuth: refusing },
    );
    const view = await get('/console/approvals', 'carol');
    expect(view.status).toBe(403);
    expect(await view.text()).toContain('allowed only from approved networks');
    expect((await post('carol', { decision: 'approve' })).status).toBe(403);
    expect(await refusals()).toEqual(['conditional_access']);
  });

  /** The rendering on the page, HTML entities undone. */
  const shownArguments = (page: string) =>
    (/<pre class="args" id="arguments">([\s\S]*?)<\/pre>/.exec(page)?.[1] ?? '')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  /** A new request by alice with raw JSON arguments (exactly as an agent would send them). */
  const requestWith = async (argumentsJson: string): Promise<string> => {
    const token = await h.token('alice', { groups: ['eng'], clientId: 'claude-code' });
    const sid = await h.open(token);
    const res = await h.request(
      'POST',
      {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${token}`,
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
      undefined,
      `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"delete_everything","arguments":${argumentsJson}}}`,
    );
    const text = await res.text();
    return /"id":"(apr_[A-Za-z0-9_-]+)"/.exec(text)?.[1] as string;
  };

  it('shows the exact arguments — __proto__, bidi and zero-width escaped, types, a 100 KB string whole — as the one view', async () => {
    const long = 'L'.repeat(100_000);
    id = await requestWith(
      `{"__proto__":{"isAdmin":true},"constructor":1,"file":"invoice\\u202egpj.exe","user":"ad\\u200bmin","n":1e21,"s":"1e21","long":"${long}"}`,
    );
    const page = await (await get(`/console/approvals/${id}`, 'carol')).text();
    const record = await h.assembly.storage.approvals.get(id);
    const view = argumentsView(record as ApprovalRecord);
    expect(view.integrity).toBe('exact');
    expect(shownArguments(page)).toBe(view.text);
    expect(view.text).toContain('"__proto__": {\n    "isAdmin": true\n  }');
    expect(view.text).toContain('"constructor": 1');
    expect(view.text).toContain('"file": "invoice\\u202egpj.exe"');
    expect(view.text).toContain('"user": "ad\\u200bmin"');
    expect(view.text).toContain('"n": 1e+21');
    expect(view.text).toContain('"s": "1e21"');
    expect(view.text).toContain(`"long": "${long}"`);
    expect(page).not.toContain('\u202e');
    expect(page).not.toContain('\u200b');
    expect(page).toContain('data-integrity="exact"');
    expect(page).toContain(`${view.characters} characters, ${view.lines} lines, all shown below`);
    expect(page).not.toContain('name="acknowledgeHidden"');
  });

  it('hidden values (a credential Gatehouse holds): the page warns, and approving needs the acknowledgement — without it nothing changes', async () => {
    const held = 'held-credential-5b1e9d';
    registerCredential(held);
    try {
      id = await requestWith(`{"dsn":"postgres://app:${held}@db/prod","table":"orders"}`);
      const page = await (await get(`/console/approvals/${id}`, 'carol')).text();
      expect(page).not.toContain(held);
      expect(page).toContain('data-integrity="masked"');
      expect(page).toContain('<strong>Warning:</strong> Some values are hidden');
      expect(shownArguments(page)).toContain('"dsn": "postgres://app:" + [REDACTED:vault] + "@db/prod"');
      expect(page).toContain('name="acknowledgeHidden"');

      const refused = await post('carol', { csrf: await csrfOf('carol'), decision: 'approve' });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain('Nothing was decided: some arguments of request');
      expect(await status()).toBe('pending');
      expect(await refusals()).toEqual(['hidden_arguments_not_acknowledged']);

      const approved = await post('carol', { csrf: await csrfOf('carol'), decision: 'approve', acknowledgeHidden: 'on' });
      expect(approved.status).toBe(303);
      expect(await status()).toBe('approved');
      await h.assembly.audit.flush();
      const [decided] = (await h.assembly.storage.audit.query({ kinds: ['approval.decided'] })).map(
        (r) => JSON.parse(r.body) as { approval: { arguments: Record<string, unknown> } },
      );
      expect(decided?.approval.arguments).toMatchObject({ integrity: 'masked', hidden: true, acknowledgedHidden: true });
      const [requested] = (await h.assembly.storage.audit.query({ kinds: ['approval.requested'] })).filter((r) => r.body.includes(id));
      expect(requested?.body).not.toContain(held);
    } finally {
      unregisterCredential(held);
    }
  });

  it('an approval releases the requesting client only, unless the approver ticks "any other client"', async () => {
    id = await requestWith('{"scope":"clients"}');
    const page = await (await get(`/console/approvals/${id}`, 'carol')).text();
    expect(page).toContain('<code>claude-code</code>');
    expect(page).toContain('name="anyClient"');
    const res = await post('carol', { csrf: await csrfOf('carol'), decision: 'approve', anyClient: 'on' });
    expect(res.status).toBe(303);
    expect(await h.assembly.storage.approvals.get(id)).toMatchObject({ status: 'approved', anyClient: true, requester: { client: 'claude-code' } });
    const other = await h.token('alice', { groups: ['eng'], clientId: 'another-client' });
    const retry = await h.rpc(other, await h.open(other), 'tools/call', { name: 'delete_everything', arguments: { scope: 'clients' } });
    expect(retry.response.result).toMatchObject({ content: [{ text: 'delete_everything:{"scope":"clients"}' }] });
    expect(await (await get(`/console/approvals/${id}`, 'carol')).text()).toContain('released for any client of this user');
  });
});
