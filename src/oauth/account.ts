import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import type Provider from 'oidc-provider';
import { AuditKind, type AuditLog, namedActor } from '../audit/index.js';
import type { ConsentStore, OAuthStore } from '../storage/index.js';
import type { Csrf } from '../http/csrf.js';
import type { NodeEnv } from './interactions.js';
import { connectedClientsPage } from './pages/account.js';
import { messagePage } from './pages/message.js';
import { boundedQuery, readBoundedForm } from './bounded-input.js';
import { ACCOUNT_CLIENT_ID } from './constants.js';
import { currentSession, MFA_ACR, safeReturnPath, SIGN_IN_PATH, type SignedInSession } from './browser-session.js';

export interface AccountDeps {
  provider(): Provider;
  publicUrl: string;
  consents: ConsentStore;
  oauthStore: OAuthStore;
  audit: AuditLog;
  csrf: Csrf;
  /** Revokes one authorization (grant): its tokens, refresh family and MCP sessions. */
  revokeGrant(grantId: string, by: string): Promise<void>;
  clientIp(c: Context): string | undefined;
}

type Ctx = Context<NodeEnv>;

/**
 * "Connected clients": the signed-in user's own view of which applications may act for them,
 * with revoke. Signing in here goes through the same authorization server pages (as the
 * first-party `gatehouse-account` client with response_type=none: a sign-in, no tokens).
 *
 * `/account/sign-in?return_to=PATH[&mfa=1]` is that sign-in for Gatehouse's other pages too
 * (the approval console): it comes back to PATH, a local `/account` or `/console` path.
 * With `mfa=1` it is a step-up: `prompt=login` and a second factor, whatever the session.
 */
export function accountRoutes(deps: AccountDeps): Hono<NodeEnv> {
  const app = new Hono<NodeEnv>();
  const secure = deps.publicUrl.startsWith('https:');
  const stateCookie = secure ? '__Host-gatehouse.account-state' : 'gatehouse.account-state';
  const origin = new URL(deps.publicUrl).origin;

  const session = (c: Ctx): Promise<SignedInSession | undefined> => currentSession(deps.provider(), c);

  /** Starts a sign-in at the authorization server that comes back to `returnTo`. */
  function startSignIn(c: Ctx, returnTo: string, mfa: boolean): Response {
    const state = randomBytes(24).toString('base64url');
    // The return path rides in the state cookie (checked again on the way back), never in the URL.
    setCookie(c, stateCookie, `${state}.${Buffer.from(returnTo).toString('base64url')}`, { httpOnly: true, secure, sameSite: 'Lax', path: '/', maxAge: 600 });
    const url = new URL(`${deps.publicUrl}/oauth/authorize`);
    url.searchParams.set('client_id', ACCOUNT_CLIENT_ID);
    url.searchParams.set('response_type', 'none');
    url.searchParams.set('redirect_uri', `${deps.publicUrl}/account/callback`);
    url.searchParams.set('scope', 'openid');
    url.searchParams.set('state', state);
    if (mfa) {
      url.searchParams.set('prompt', 'login');
      url.searchParams.set('acr_values', MFA_ACR);
    }
    return c.redirect(url.href, 303);
  }

  /** Every field bounded first, then CSRF (the form token bound to the session, and our Origin). */
  async function postedForm(c: Ctx, sessionId: string): Promise<Record<string, string> | undefined> {
    const o = c.req.header('origin');
    if (o !== undefined && o !== origin) return undefined;
    const body = await readBoundedForm(c);
    if (!body.ok) return undefined;
    return deps.csrf.verify(`account:${sessionId}`, body.fields.csrf) ? body.fields : undefined;
  }

  /** The query of a GET, every parameter bounded; an oversized one is refused before use. */
  const query = (c: Ctx): Record<string, string> | Response => {
    const bounded = boundedQuery(c.req.url);
    return bounded.ok ? bounded.fields : messagePage('Request refused', bounded.message, { status: bounded.status, code: bounded.code });
  };

  app.get('/account', async (c) => {
    const q = query(c);
    if (q instanceof Response) return q;
    const s = await session(c);
    if (!s) return startSignIn(c, '/account', false);
    const notice = q.revoked ? `Access for ${q.revoked} was revoked.` : undefined;
    return connectedClientsPage({ user: s.sub, clients: await deps.consents.listForUser(s.sub), csrf: deps.csrf.token(`account:${s.id}`), notice });
  });

  app.get(SIGN_IN_PATH, (c) => {
    const q = query(c);
    if (q instanceof Response) return q;
    const returnTo = safeReturnPath(q.return_to ?? '/account');
    if (!returnTo) return messagePage('Cannot sign in', 'This sign-in link is not valid.', { status: 400, code: 'account.bad_return_to' });
    return startSignIn(c, returnTo, q.mfa === '1');
  });

  app.get('/account/callback', (c) => {
    const q = query(c);
    if (q instanceof Response) return q;
    const cookie = getCookie(c, stateCookie) ?? '';
    deleteCookie(c, stateCookie, { path: '/', secure });
    const dot = cookie.indexOf('.');
    const expected = dot > 0 ? cookie.slice(0, dot) : cookie;
    const returnTo = dot > 0 ? safeReturnPath(Buffer.from(cookie.slice(dot + 1), 'base64url').toString()) : '/account';
    const state = q.state;
    if (!expected || state !== expected || !returnTo)
      return messagePage('Sign-in expired', 'This sign-in could not be matched to your browser. Open the page again.', {
        status: 400,
        code: 'account.state_mismatch',
      });
    const error = q.error;
    if (error) return messagePage('Not signed in', q.error_description ?? 'Sign-in did not complete.', { status: 403, code: error });
    return c.redirect(returnTo, 303);
  });

  app.post('/account/clients/revoke', async (c) => {
    const s = await session(c);
    if (!s) return messagePage('Signed out', 'Your sign-in has ended. Open the account page again.', { status: 401, code: 'account.no_session' });
    const fields = await postedForm(c, s.id);
    if (!fields) return messagePage('Request refused', 'This form was not submitted from your account page.', { status: 403, code: 'account.csrf' });
    const clientId = fields.client_id ?? '';
    const consent = await deps.consents.get(s.sub, clientId);
    if (!consent) return messagePage('Not found', 'That application is not connected to your account.', { status: 404, code: 'account.unknown_client' });
    for (const grantId of await deps.oauthStore.grantIds(s.sub, clientId)) await deps.revokeGrant(grantId, s.sub);
    await deps.consents.delete(s.sub, clientId);
    await deps.audit.append(
      AuditKind.ConsentRevoked,
      { actor: namedActor(s.sub, { ip: deps.clientIp(c) }), revoked: { kind: 'consent', client: clientId } },
      { durable: true },
    );
    return c.redirect(`/account?revoked=${encodeURIComponent(consent.clientName)}`, 303);
  });

  app.post('/account/logout', async (c) => {
    const s = await session(c);
    if (s) {
      const fields = await postedForm(c, s.id);
      if (!fields) return messagePage('Request refused', 'This form was not submitted from your account page.', { status: 403, code: 'account.csrf' });
      await s.destroy();
    }
    return messagePage(
      'Signed out',
      'You are signed out of Gatehouse. Applications you connected can no longer refresh their access: their current tokens expire within minutes, and they must ask you to sign in again.',
      { status: 200 },
    );
  });

  return app;
}
