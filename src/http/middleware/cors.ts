import type { Context, MiddlewareHandler, Next } from 'hono';
import { cors } from 'hono/cors';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';

const ALLOW_HEADERS = ['Authorization', 'Content-Type', 'Accept', 'Mcp-Protocol-Version', 'Mcp-Session-Id', 'Last-Event-ID', 'DPoP'];
const EXPOSE_HEADERS = ['Mcp-Session-Id', 'Mcp-Protocol-Version', 'WWW-Authenticate'];
const CORS_HEADER = /^access-control-/;

export type CorsVariables = { corsHeaders: Record<string, string> };

/**
 * CORS for browser-based MCP clients on authenticated endpoints (hono/cors): the request's
 * Origin is echoed only when it is on the allow-list — never `*` — and `Vary: Origin` keeps
 * caches honest. Runs after hostOriginCheck, so a disallowed Origin never gets here. The
 * headers are also left in `corsHeaders` for handlers that write to the socket themselves
 * (streams), where headers set on the Hono response would never be sent.
 */
export function mcpCors(allowedOrigins: readonly string[]): MiddlewareHandler<{ Variables: CorsVariables }> {
  const origins = new Set(allowedOrigins.map((o) => o.toLowerCase()));
  const headers = cors({
    origin: (origin) => (origins.has(origin.toLowerCase()) ? origin : null),
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
    maxAge: 600,
  });
  return (c, next) => {
    if (c.req.method !== 'OPTIONS' && c.req.header('origin') === undefined) return withoutOrigin(c, next);
    return headers(c, async () => {
      const set: Record<string, string> = { vary: 'Origin' };
      if (c.res.headers.has('access-control-allow-origin')) {
        for (const [name, value] of c.res.headers) if (CORS_HEADER.test(name)) set[name] = value;
      }
      c.set('corsHeaders', set);
      await next();
    });
  };
}

const EXPOSE = EXPOSE_HEADERS.join(',');

/**
 * A request without Origin (an agent, not a browser page) gets exactly the headers hono/cors
 * gives it — `Access-Control-Expose-Headers` and `Vary: Origin` — added after the handler, and
 * only to a response Hono sends. hono/cors sets them before the handler, which makes Hono build
 * a Response for every request and copy it twice more when the handler writes to the socket
 * itself (most MCP requests): three Response objects per request for headers nobody receives.
 * RESPONSE_ALREADY_SENT is one object shared by every request; it is never written to.
 */
async function withoutOrigin(c: Context<{ Variables: CorsVariables }>, next: Next): Promise<void> {
  c.set('corsHeaders', { vary: 'Origin' });
  await next();
  if (c.res === RESPONSE_ALREADY_SENT) return;
  c.header('Access-Control-Expose-Headers', EXPOSE);
  c.header('Vary', 'Origin', { append: true });
}

/**
 * Public metadata may be read from any origin: it carries no credentials and no user data.
 * Hand-written, not hono/cors: some of these routes are answered by the authorization server's
 * node handler, which has already written the response when the handler returns; hono/cors
 * would still set its headers on that response, and node-server then tries to write it a second
 * time (ERR_HTTP_HEADERS_SENT). Headers are added only to responses Hono sends itself.
 */
export function publicCors(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'MCP-Protocol-Version' },
      });
    }
    await next();
    if (c.res === RESPONSE_ALREADY_SENT) return;
    c.res.headers.set('access-control-allow-origin', '*');
  };
}
