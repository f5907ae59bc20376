import { sanitizer } from '../sanitize/index.js';

/**
 * A JSON-RPC error response for failures that happen before a request has an id. The body goes
 * through the outbound sanitizer like every other byte bound for an MCP client.
 */
export function jsonRpcErrorResponse(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
  data?: Record<string, unknown>,
): Response {
  const body = sanitizer.sanitize({ jsonrpc: '2.0', error: { code, message, ...(data ? { data } : {}) }, id: null }, { kind: 'http-error' });
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
