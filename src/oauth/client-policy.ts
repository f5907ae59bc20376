import { errors } from 'oidc-provider';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:', 'ftp:', 'ws:', 'wss:']);

export function isLoopbackRedirect(uri: string): boolean {
  const url = URL.parse(uri);
  return url !== null && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * Redirect URI rules for every client (pre-registered, dynamically registered, or from a
 * Client ID Metadata Document), applied through oidc-provider's client metadata validator:
 * - https, except http on a loopback address (OAuth 2.1 §2.3.1, RFC 8252 §7.3);
 * - app-claimed schemes (`cursor://…`, `com.example.app:/cb`) for apps on the device;
 * - never script-bearing or local-file schemes, userinfo, or fragments.
 * A client whose redirects are all on the device is registered as `native`: per RFC 8252
 * §7.3 its loopback port may vary, and the user is asked for consent every time (another
 * program on the device could claim the same redirect).
 */
export function validateRedirectUris(metadata: Record<string, unknown>): void {
  const uris = metadata.redirect_uris;
  if (!Array.isArray(uris)) return;
  let onDevice = uris.length > 0;
  for (const uri of uris) {
    if (typeof uri !== 'string') throw new errors.InvalidRedirectUri('redirect_uris must be strings');
    const url = URL.parse(uri);
    if (!url) throw new errors.InvalidRedirectUri(`redirect URI is not a URL: ${uri}`);
    if (url.hash || uri.includes('#')) throw new errors.InvalidRedirectUri('redirect URIs must not contain a fragment');
    if (url.username || url.password) throw new errors.InvalidRedirectUri('redirect URIs must not contain userinfo');
    if (FORBIDDEN_SCHEMES.has(url.protocol)) throw new errors.InvalidRedirectUri(`redirect URIs must not use the ${url.protocol} scheme`);
    if (url.protocol === 'http:') {
      if (!LOOPBACK_HOSTS.has(url.hostname)) throw new errors.InvalidRedirectUri('http redirect URIs are allowed only on loopback addresses; use https');
    } else if (url.protocol === 'https:') {
      onDevice = false;
    }
  }
  if (onDevice) metadata.application_type = 'native';
}
