/**
 * The console's approval pages against a real gateway process (`node dist/cli/main.js start`),
 * signed in through the authorization server's own pages with a cookie jar, as a person with
 * a browser would: the seam between identity (sign-in, TOTP, sessions) and four-eyes approvals.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forms, type Browser, type Form } from '../helpers/browser.js';
import { completeSignIn, consoleBrowser, csrfOf, decide, open, unescapeHtml, visit, type Person } from '../helpers/console.js';
import { codeFlow, discover, register } from '../helpers/oauth4-flow.js';
import { PASSWORD, type OAuthGateway } from '../helpers/oauth-gateway.js';
import {
  approvalRows,
  auditRows,
  cleanup,
  cli,
  connectClient,
  sleep,
  startGateway,
  STARTER_POLICIES,
  text,
  waitFor,
  type GatewayProcess,
} from '../helpers/policy-e2e.js';

afterAll(cleanup);

/** A decision in the console needs a second factor at most this old (kept short so the stale case is quick). */
const MFA_MAX_AGE_MS = 5000;

type PendingMeta = { id: string; status: string; url: string };
const pendingOf = (result: unknown): PendingMeta => (result as { _meta: Record<string, PendingMeta> })._meta['gatehouse/approval'] as PendingMeta;

describe('console approvals: identity’s sign-in and MFA meet four-eyes approvals', () => {
  let gw: GatewayProcess;
  let agent: Client;
  const alice: Person = { username: 'alice' };
  const bob: Person = { username: 'bob' };
  const mallory: Person = { username: 'mallory' };
  const browsers: Record<string, Browser> = {};
  let bobMfaAt = 0;

  const status = (id: string) => approvalRows(gw.dataDir).find((r) => r.id === id)?.status;
  const refusals = (id: string) =>
    auditRows(gw.dataDir)
      .filter((r) => r.kind === 'approval.refused' && r.body.approval?.id === id)
      .map((r) => [r.body.actor.sub, r.body.via, r.body.outcome.code]);
  const waitForRefusals = (id: string, count: number) =>
    waitFor(() => refusals(id).length >= count && refusals(id), `${count} refusals of ${id} in the audit log`);
  /** A real agent token: the OAuth code flow with PKCE for a freshly registered MCP client, signed in (and consented) in `browser`. */
  const agentToken = async (browser: Browser, person: Person): Promise<string> => {
    const target = { url: gw.url, mcpUrl: `${gw.url}/mcp`, browser: () => browser } as unknown as OAuthGateway;
    const as = await discover(target);
    const client = await register(as, { redirect_uris: ['http://127.0.0.1:53117/callback'], client_name: `${person.username}’s agent` });
    const tokens = await codeFlow(target, as, client, { browser, username: person.username, scope: 'mcp' });
    return tokens.access_token;
  };
  /** Alice's agent asks for the destructive call; it waits briefly, then returns the pending approval. */
  const requestDeletion = async (args: Record<string, unknown>): Promise<string> => {
    const result = await agent.callTool({ name: 'delete_everything', arguments: args }, undefined, { timeout: 30_000 });
    expect(result.isError).toBe(true);
    const pending = pendingOf(result);
    expect(pending).toMatchObject({ status: 'pending', url: `${gw.url}/console/approvals/${pending.id}` });
    return pending.id;
  };

  beforeAll(async () => {
    gw = await startGateway(
      { approvals: { approvers: { echo: { groups: ['sre'] } }, wait: '200ms', consoleMfaMaxAge: `${MFA_MAX_AGE_MS}ms` }, rateLimits: { enabled: false } },
      { policies: STARTER_POLICIES },
    );
    for (const [name, group] of [
      ['alice', 'eng'],
      ['bob', 'sre'],
      ['mallory', 'eng'],
    ] as const) {
      const added = await cli(['users', 'add', name, '--group', group, '--data-dir', gw.dataDir, '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(added.code, added.stderr).toBe(0);
    }
    for (const name of ['alice', 'bob', 'mallory']) browsers[name] = consoleBrowser(gw.url);
    // Alice's agent, with a token from the real authorization flow (alice signs in and consents).
    agent = await connectClient(gw, await agentToken(browsers.alice as Browser, alice));
  });

  it('bob signs in through the browser flow; without a second factor he is stepped up (nothing decided), enrolls TOTP, approves; alice’s retry runs', async () => {
    const id = await requestDeletion({ target: 'staging', _gatehouse_reason: 'reset staging' });
    const b = browsers.bob as Browser;

    // Not signed in: the console sends the browser to the authorization server's sign-in and back.
    const first = await open(b, `${gw.url}/console/approvals/${id}`);
    expect(first.url.pathname).toMatch(/^\/interaction\//);
    expect(first.html).toContain('Sign in to manage the applications connected to your account and the approval requests waiting for you.');
    const detail = await completeSignIn(b, first, bob);
    expect(detail.url.pathname).toBe(`/console/approvals/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.html).toContain('echo__delete_everything');
    expect(detail.html).toContain('reset staging');
    // Password only: the page says a decision needs a second factor, and links the step-up.
    expect(unescapeHtml(detail.html)).toContain(
      `<a href="/account/sign-in?return_to=%2Fconsole%2Fapprovals%2F${id}&mfa=1">Confirm with your second factor</a>`,
    );

    // Approving anyway is refused with a step-up, and nothing is decided.
    const noMfa = await decide(b, gw.url, id, { csrf: csrfOf(detail.html), decision: 'approve' });
    expect(noMfa.status).toBe(403);
    expect(noMfa.html).toContain('<h1>Second factor needed</h1>');
    expect(noMfa.html).toContain('Nothing was decided');
    expect(status(id)).toBe('pending');
    expect(await waitForRefusals(id, 1)).toEqual([['bob', 'console', 'mfa_required']]);

    // The step-up: sign in again (as bob only), a second factor (enrolled on the spot), back to the request.
    const stepUp = await open(b, `${gw.url}${unescapeHtml(/href="([^"]+)">Confirm with your second factor/.exec(noMfa.html)?.[1] as string)}`);
    expect(stepUp.url.pathname).toMatch(/^\/interaction\//);
    expect(stepUp.html).toContain('Confirm it is you: sign in again, then enter a code from your authenticator app.');
    expect(stepUp.html).toMatch(/name="username"[^>]*value="bob"/);
    const confirmed = await completeSignIn(b, stepUp, bob);
    expect(bob.totp?.secret).toMatch(/^[A-Z2-7]+$/);
    expect(confirmed.url.pathname).toBe(`/console/approvals/${id}`);
    expect(confirmed.html).not.toContain('Confirm with your second factor');
    bobMfaAt = Date.now();

    const approved = await decide(b, gw.url, id, { csrf: csrfOf(confirmed.html), decision: 'approve', note: 'checked with alice' });
    expect(approved.status).toBe(303);
    expect(approved.location).toBe(`/console/approvals/${id}?done=approved`);
    expect(approved.html).toContain('Approved.');
    expect(status(id)).toBe('approved');

    // Alice's agent retries with exactly the same arguments: it runs, once.
    expect(text(await agent.callTool({ name: 'delete_everything', arguments: { target: 'staging', _gatehouse_reason: 'reset staging' } }))).toBe(
      'deleted (not really)',
    );
    expect(status(id)).toBe('used');

    const rows = auditRows(gw.dataDir);
    expect(rows.find((r) => r.kind === 'approval.decided' && r.body.approval.id === id)?.body).toMatchObject({
      actor: { sub: 'bob', groups: ['sre'] },
      via: 'console',
      approval: { status: 'approved', requester: 'alice', note: 'checked with alice' },
    });
    await waitFor(
      () => auditRows(gw.dataDir).some((r) => r.kind === 'auth.mfa_enrolled' && r.body.actor.sub === 'bob'),
      'bob’s TOTP enrollment in the audit log',
    );
    expect(rows.find((r) => r.kind === 'approval.used' && r.body.approval.id === id)?.body).toMatchObject({ approval: { decidedBy: 'bob' } });
  });

  it('refuses alice approving her own request, mallory without the approver role, a post without CSRF token, and an agent’s bearer token — all audited, nothing decided', async () => {
    const id = await requestDeletion({ target: 'production' });

    // Alice (signed in from when she connected her agent) sees her request but no Approve button; a crafted post is refused.
    const a = browsers.alice as Browser;
    const own = await visit(a, `${gw.url}/console/approvals/${id}`, alice);
    expect(own.status).toBe(200);
    expect(own.html).toContain('you cannot approve your own request');
    expect(own.html).not.toContain('value="approve">Approve');
    const self = await decide(a, gw.url, id, { csrf: csrfOf(own.html), decision: 'approve' });
    expect(self.status).toBe(403);
    expect(self.html).toContain('A four-eyes request must be approved by someone other than the requester.');

    // Mallory signs in: the request is invisible to her, and she cannot forge a decision.
    const m = browsers.mallory as Browser;
    const list = await visit(m, `${gw.url}/console/approvals`, mallory);
    expect(list.url.pathname).toBe('/console/approvals');
    expect(list.html).toContain('Signed in as <strong>mallory</strong>');
    expect(list.html).not.toContain(id);
    expect((await open(m, `${gw.url}/console/approvals/${id}`)).status).toBe(404);
    expect((await decide(m, gw.url, id, { csrf: csrfOf(own.html), decision: 'approve' })).status).toBe(403);

    // Bob (fresh second factor) posting without the CSRF token: refused.
    const b = browsers.bob as Browser;
    const noCsrf = await decide(b, gw.url, id, { decision: 'approve' });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.html).toContain('The form has expired.');

    // Bob's own agent, with a real token from the authorization server: never on the console,
    // not even alongside bob's signed-in browser and a valid CSRF token.
    const bobsAgent = await agentToken(b, bob);
    const page = await open(b, `${gw.url}/console/approvals/${id}`);
    const withToken = await decide(b, gw.url, id, { csrf: csrfOf(page.html), decision: 'approve' }, { authorization: `Bearer ${bobsAgent}` });
    expect(withToken.status).toBe(401);
    expect(withToken.html).toContain('an agent can never approve anything');
    const tokenOnly = await fetch(`${gw.url}/console/approvals/${id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bobsAgent}`, origin: gw.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=approve',
    });
    expect(tokenOnly.status).toBe(401);
    expect((await fetch(`${gw.url}/console/approvals`, { headers: { authorization: `Bearer ${bobsAgent}` } })).status).toBe(401);

    expect(status(id)).toBe('pending');
    expect(await waitForRefusals(id, 5)).toEqual([
      ['alice', 'console', 'self_approval'],
      ['mallory', 'console', 'csrf_failed'],
      ['bob', 'console', 'csrf_failed'],
      ['-', 'console', 'agent_token'],
      ['-', 'console', 'agent_token'],
    ]);
  });

  it('a stale second factor gets a step-up (password and TOTP again), then the decision goes through', async () => {
    const id = await requestDeletion({ target: 'qa' });
    await sleep(Math.max(0, bobMfaAt + MFA_MAX_AGE_MS + 500 - Date.now()));
    const b = browsers.bob as Browser;
    const page = await open(b, `${gw.url}/console/approvals/${id}`);
    expect(page.html).toContain('Confirm with your second factor');
    const stale = await decide(b, gw.url, id, { csrf: csrfOf(page.html), decision: 'approve' });
    expect(stale.status).toBe(403);
    expect(stale.html).toContain('<h1>Second factor needed</h1>');
    expect(status(id)).toBe('pending');

    // The step-up asks bob, who has TOTP now, for his password and a code — bob's, nobody else's.
    const stepUp = await open(b, `${gw.url}${unescapeHtml(/href="([^"]+)">Confirm with your second factor/.exec(stale.html)?.[1] as string)}`);
    expect(stepUp.html).toMatch(/name="username"[^>]*value="bob"/);
    const someoneElse = await b.submit(stepUp.url, forms(stepUp.html)[0] as Form, { username: 'mallory', password: PASSWORD });
    const refusedHtml = await someoneElse.response.text();
    expect(someoneElse.response.status).toBe(401);
    expect(refusedHtml).toContain('You are signed in as bob: confirm with that account.');
    const back = await completeSignIn(b, { status: 200, url: someoneElse.url, html: refusedHtml }, bob);
    expect(back.url.pathname).toBe(`/console/approvals/${id}`);
    const approved = await decide(b, gw.url, id, { csrf: csrfOf(back.html), decision: 'approve' });
    expect(approved.status).toBe(303);
    expect(status(id)).toBe('approved');
    expect(text(await agent.callTool({ name: 'delete_everything', arguments: { target: 'qa' } }))).toBe('deleted (not really)');
    expect(await waitForRefusals(id, 1)).toEqual([['bob', 'console', 'mfa_required']]);
    const logins = auditRows(gw.dataDir).filter((r) => r.kind === 'auth.login' && r.body.actor.sub === 'bob');
    expect(logins.at(-1)?.body.amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('CLI approvers: --as takes groups from the users store (over approvals.directory) and refuses a disabled account', async () => {
    const id = await requestDeletion({ target: 'cli' });
    // mallory's account says eng: not an approver, whatever a directory might say.
    const notApprover = await cli(['approvals', 'approve', id, '--as', 'mallory', '--config', gw.configPath, '--data-dir', gw.dataDir]);
    expect(notApprover.code).toBe(1);
    expect(notApprover.stderr).toContain('refused (not_an_approver)');
    const disabled = await cli(['users', 'disable', 'bob', '--data-dir', gw.dataDir]);
    expect(disabled.code, disabled.stderr).toBe(0);
    const refused = await cli(['approvals', 'approve', id, '--as', 'bob', '--config', gw.configPath, '--data-dir', gw.dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused (user_disabled): The account "bob" is disabled: it cannot decide approval requests.');
    // A disabled account's browser session no longer counts in the console either.
    const page = await open(browsers.bob as Browser, `${gw.url}/console/approvals/${id}`);
    expect(page.url.pathname).not.toBe(`/console/approvals/${id}`);
    expect(status(id)).toBe('pending');
    await cli(['users', 'enable', 'bob', '--data-dir', gw.dataDir]);
    const ok = await cli(['approvals', 'approve', id, '--as', 'bob', '--config', gw.configPath, '--data-dir', gw.dataDir]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(status(id)).toBe('approved');
    expect(await waitForRefusals(id, 2)).toEqual([
      ['mallory', 'cli', 'not_an_approver'],
      ['bob', 'cli', 'user_disabled'],
    ]);
    expect(auditRows(gw.dataDir).find((r) => r.kind === 'approval.decided' && r.body.approval.id === id)?.body).toMatchObject({
      actor: { sub: 'bob', groups: ['sre'] },
      via: 'cli',
    });
  });
});
