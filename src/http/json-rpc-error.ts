import { sanitizer } from '../sanitize/index.js';

/**
 * A JSON-RPC error response for failures the transport answers itself (before a request reaches
 * the SDK server): `id` is the request's when it is known, else null. The body goes through the
 * outbound sanitizer like every other byte bound for an MCP client.
 */
export function jsonRpcErrorResponse(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
  data?: Record<string, unknown>,
  id: string | number | null = null,
): Response {
  const body = sanitizer.sanitize({ jsonrpc: '2.0', error: { code, message, ...(data ? { data } : {}) }, id }, { kind: 'http-error' });
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
