/**
 * Security headers for every HTML page Gatehouse serves (sign-in pages, account page, approvals
 * console), around the page's own Content-Security-Policy: no framing (clickjacking on consent
 * and approval buttons), no MIME sniffing, no caching of pages that carry CSRF tokens.
 *
 * Set on each Response rather than by hono/secure-headers: some pages are rendered inside
 * oidc-provider's own error handler, outside any Hono middleware chain, and the middleware's
 * defaults add headers these pages have never sent (see docs/decisions.md).
 */
export function htmlPageHeaders(contentSecurityPolicy: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': contentSecurityPolicy,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not `no-referrer`: under it browsers send `Origin: null` with a form post (Fetch
    // standard), and every form here is checked against our own Origin. `same-origin` keeps
    // URLs (interaction ids, approval ids) from reaching any other site all the same.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}
