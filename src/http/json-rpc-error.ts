/** A JSON-RPC error response for failures that happen before a request has an id. */
export function jsonRpcErrorResponse(status: number, code: number, message: string, headers: Record<string, string> = {}, data?: Record<string, unknown>): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message, ...(data ? { data } : {}) }, id: null }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
