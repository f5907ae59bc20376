import type { MiddlewareHandler } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';

const ALLOW_HEADERS = 'Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID, DPoP';
const EXPOSE_HEADERS = 'Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate';

export type CorsVariables = { corsHeaders: Record<string, string> };

/**
 * CORS for browser-based MCP clients on authenticated endpoints: the request's Origin is echoed
 * only when it is on the allow-list — never `*` — and `Vary: Origin` keeps caches honest.
 * Runs after hostOriginCheck, so a disallowed Origin never gets here. The headers are also
 * left in `corsHeaders` for handlers that write to the socket themselves.
 */
export function mcpCors(allowedOrigins: readonly string[]): MiddlewareHandler<{ Variables: CorsVariables }> {
  const origins = new Set(allowedOrigins.map((o) => o.toLowerCase()));
  return async (c, next) => {
    const origin = c.req.header('origin');
    const allowed = origin !== undefined && origins.has(origin.toLowerCase());
    const headers: Record<string, string> = { vary: 'Origin' };
    if (allowed) {
      headers['access-control-allow-origin'] = origin;
      headers['access-control-expose-headers'] = EXPOSE_HEADERS;
    }
    if (c.req.method === 'OPTIONS') {
      if (allowed) {
        headers['access-control-allow-methods'] = 'GET, POST, DELETE, OPTIONS';
        headers['access-control-allow-headers'] = ALLOW_HEADERS;
        headers['access-control-max-age'] = '600';
      }
      return new Response(null, { status: 204, headers });
    }
    c.set('corsHeaders', headers);
    await next();
    if (c.res === RESPONSE_ALREADY_SENT) return;
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}

/** Public metadata may be read from any origin: it carries no credentials and no user data. */
export function publicCors(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'MCP-Protocol-Version' },
      });
    }
    await next();
    // Routes served by a mounted node handler (the authorization server) set their own headers.
    if (c.res === RESPONSE_ALREADY_SENT) return;
    c.res.headers.set('access-control-allow-origin', '*');
  };
}
