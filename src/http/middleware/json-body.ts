import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { jsonRpcErrorResponse } from '../json-rpc-error.js';
import { BodyTooLarge, readCapped } from '../read-capped.js';

export type JsonBodyVariables = { jsonBody: unknown };

/**
 * Reads and parses a POST body once, with a hard size cap (413 before anything is parsed),
 * so the JSON-RPC layer never re-reads or re-parses it. Reads node's request stream directly
 * when there is one, avoiding a web Request on the hot path.
 */
export function jsonBody(maxBytes: number): MiddlewareHandler<{ Bindings: { incoming?: IncomingMessage }; Variables: JsonBodyVariables }> {
  const tooLarge = () => jsonRpcErrorResponse(413, -32600, `Request body too large (limit ${maxBytes} bytes)`, {}, { code: 'http.body_too_large' });
  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const contentType = c.req.header('content-type') ?? '';
    if (!/^application\/json\s*(;|$)/i.test(contentType)) {
      return jsonRpcErrorResponse(415, -32000, 'Unsupported Media Type: Content-Type must be application/json', {}, { code: 'http.unsupported_media_type' });
    }
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) return tooLarge();
    let text: string;
    try {
      const incoming = c.env?.incoming;
      const source = incoming ?? c.req.raw.body;
      text = source ? await readCapped(source as AsyncIterable<Uint8Array>, maxBytes) : '';
    } catch (error) {
      if (error instanceof BodyTooLarge) return tooLarge();
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return jsonRpcErrorResponse(400, -32700, 'Parse error: the body is not valid JSON', {}, { code: 'http.parse_error' });
    }
    c.set('jsonBody', parsed);
    await next();
  };
}
