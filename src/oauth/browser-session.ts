import type { Context } from 'hono';
import type Provider from 'oidc-provider';
import type { NodeEnv } from './interactions.js';

/**
 * The browser's sign-in at the authorization server (oidc-provider's session, in its signed
 * HttpOnly cookie): the one sign-in that Gatehouse's own pages — connected clients, the
 * approval console — share. Nothing here reads an `Authorization` header.
 */
export interface SignedInSession {
  /** The session id (changes at every sign-in); CSRF tokens are bound to it. */
  id: string;
  sub: string;
  /** RFC 8176 methods of the latest sign-in (`pwd`, `otp`, `mfa`, `fed`, …). */
  amr: readonly string[];
  /** When the latest sign-in happened (ms since epoch). */
  authTime: number | undefined;
  destroy(): Promise<void>;
}

export async function currentSession(provider: Provider, c: Context<NodeEnv>): Promise<SignedInSession | undefined> {
  const req = c.env?.incoming;
  const res = c.env?.outgoing;
  if (!req || !res) return undefined;
  const found = await provider.Session.get(provider.createContext(req, res) as never);
  if (!found?.accountId) return undefined;
  const amr = (found as unknown as { amr?: unknown }).amr;
  const loginTs = found.authTime();
  return {
    id: found.jti as string,
    sub: found.accountId,
    amr: Array.isArray(amr) ? amr.filter((v): v is string => typeof v === 'string') : [],
    authTime: typeof loginTs === 'number' ? loginTs * 1000 : undefined,
    destroy: () => found.destroy(),
  };
}

/**
 * `acr_values` asking the sign-in for a second factor, now (OIDC Core §3.1.2.1): with
 * `prompt=login` it is a step-up. A local account without TOTP enrolls on the spot; a
 * single sign-on whose IdP reports no second factor is refused.
 */
export const MFA_ACR = 'urn:gatehouse:acr:mfa';

/** Where Gatehouse's own pages send a browser to sign in (or step up), then back to `returnTo`. */
export const SIGN_IN_PATH = '/account/sign-in';

/**
 * Pages a sign-in may return to: the account page, the console and the connections page, as a bare path (no
 * scheme, host, query, `//`, `..` or backslash) — never an open redirect.
 */
const RETURN_PATH = /^\/(?:account|console|connections)(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*\/?$/;

export function safeReturnPath(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 512 && RETURN_PATH.test(value) && !value.split('/').includes('..') ? value : undefined;
}

/** The link that signs a browser in (with `mfa`: again, with a second factor) and returns to `returnTo`. */
export function signInUrl(returnTo: string, options: { mfa: boolean }): string {
  const params = new URLSearchParams({ return_to: safeReturnPath(returnTo) ?? '/account' });
  if (options.mfa) params.set('mfa', '1');
  return `${SIGN_IN_PATH}?${params.toString()}`;
}
