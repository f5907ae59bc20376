import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import type Provider from 'oidc-provider';
import { AuditKind, type AuditLog } from '../audit/index.js';
import type { ConsentStore, OAuthStore } from '../storage/index.js';
import type { Csrf } from './csrf.js';
import type { NodeEnv } from './interactions.js';
import { connectedClientsPage } from './pages/account.js';
import { messagePage } from './pages/message.js';
import { ACCOUNT_CLIENT_ID } from './constants.js';

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
 */
export function accountRoutes(deps: AccountDeps): Hono<NodeEnv> {
  const app = new Hono<NodeEnv>();
  const secure = deps.publicUrl.startsWith('https:');
  const stateCookie = secure ? '__Host-gatehouse.account-state' : 'gatehouse.account-state';
  const origin = new URL(deps.publicUrl).origin;

  async function session(c: Ctx): Promise<{ id: string; sub: string; destroy(): Promise<void> } | undefined> {
    const req = c.env?.incoming;
    const res = c.env?.outgoing;
    if (!req || !res) return undefined;
    const provider = deps.provider();
    const found = await provider.Session.get(provider.createContext(req, res) as never);
    if (!found?.accountId) return undefined;
    return { id: found.jti as string, sub: found.accountId, destroy: () => found.destroy() };
  }

  async function postedForm(c: Ctx, sessionId: string): Promise<Record<string, string> | undefined> {
    const o = c.req.header('origin');
    if (o !== undefined && o !== origin) return undefined;
    const body = await c.req.parseBody();
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') fields[k] = v;
    return deps.csrf.verify(`account:${sessionId}`, fields.csrf) ? fields : undefined;
  }

  app.get('/account', async (c) => {
    const s = await session(c);
    if (!s) {
      const state = randomBytes(24).toString('base64url');
      setCookie(c, stateCookie, state, { httpOnly: true, secure, sameSite: 'Lax', path: '/', maxAge: 600 });
      const url = new URL(`${deps.publicUrl}/oauth/authorize`);
      url.searchParams.set('client_id', ACCOUNT_CLIENT_ID);
      url.searchParams.set('response_type', 'none');
      url.searchParams.set('redirect_uri', `${deps.publicUrl}/account/callback`);
      url.searchParams.set('scope', 'openid');
      url.searchParams.set('state', state);
      return c.redirect(url.href, 303);
    }
    const notice = c.req.query('revoked') ? `Access for ${c.req.query('revoked')} was revoked.` : undefined;
    return connectedClientsPage({ user: s.sub, clients: await deps.consents.listForUser(s.sub), csrf: deps.csrf.token(`account:${s.id}`), notice });
  });

  app.get('/account/callback', (c) => {
    const expected = getCookie(c, stateCookie);
    deleteCookie(c, stateCookie, { path: '/', secure });
    const state = c.req.query('state');
    if (!expected || state !== expected) return messagePage('Sign-in expired', 'This sign-in could not be matched to your browser. Open the account page again.', { status: 400, code: 'account.state_mismatch' });
    const error = c.req.query('error');
    if (error) return messagePage('Not signed in', c.req.query('error_description') ?? 'Sign-in did not complete.', { status: 403, code: error });
    return c.redirect('/account', 303);
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
    await deps.audit.append(AuditKind.ConsentRevoked, { actor: { sub: s.sub, ip: deps.clientIp(c) }, revoked: { kind: 'consent', client: clientId } }, { durable: true });
    return c.redirect(`/account?revoked=${encodeURIComponent(consent.clientName)}`, 303);
  });

  app.post('/account/logout', async (c) => {
    const s = await session(c);
    if (s) {
      const fields = await postedForm(c, s.id);
      if (!fields) return messagePage('Request refused', 'This form was not submitted from your account page.', { status: 403, code: 'account.csrf' });
      await s.destroy();
    }
    return messagePage('Signed out', 'You are signed out of Gatehouse. Applications you connected can no longer refresh their access: their current tokens expire within minutes, and they must ask you to sign in again.', { status: 200 });
  });

  return app;
}
