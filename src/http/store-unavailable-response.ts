import type { StoreUnavailableError } from '../errors/index.js';

/**
 * A 503 with `Retry-After` for pages and OAuth endpoints while the store is unreachable, in
 * the OAuth error shape (`temporarily_unavailable`, RFC 6749 §4.1.2.1) plus the stable code.
 * Never cached: the next try may well succeed.
 */
export function storeUnavailableResponse(error: StoreUnavailableError): Response {
  return new Response(JSON.stringify({ error: 'temporarily_unavailable', error_description: error.message, code: error.code }), {
    status: error.status,
    headers: { 'content-type': 'application/json', 'retry-after': String(error.retryAfterSeconds), 'cache-control': 'no-store' },
  });
}
