import { Hono, type Context } from 'hono';
import { type AuthenticationError, storeUnavailableFrom } from '../errors/index.js';
import { storeUnavailableResponse } from './store-unavailable-response.js';
import type { DpopVerifier, Principal } from '../tokens/index.js';
import { bearerAuth, type AuthVariables } from './middleware/bearer-auth.js';
import { hostOriginCheck } from './middleware/host-origin.js';
import { mcpCors, publicCors, type CorsVariables } from './middleware/cors.js';
import type { HttpBindings } from '@hono/node-server';
import { jsonBody, type JsonBodyVariables } from './middleware/json-body.js';
import { jsonRpcErrorResponse } from './json-rpc-error.js';

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers?: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name?: string;
  [key: string]: unknown;
}

export type McpEnv = { Bindings: Partial<HttpBindings>; Variables: AuthVariables & JsonBodyVariables & CorsVariables };

export interface HttpAppDeps {
  publicUrl: string;
  /** Extra browser origins allowed on /mcp (publicUrl's own origin is always allowed). */
  allowedOrigins: readonly string[];
  maxRequestBody: number;
  verify(token: string | undefined): Promise<Principal>;
  onAuthFailure(error: AuthenticationError, c: Context): void;
  resourceMetadata(): ProtectedResourceMetadata;
  mcp(c: Context<McpEnv>): Promise<Response>;
  /** Liveness and readiness. */
  health(): { alive: true };
  readiness(): Promise<{ ready: boolean; [key: string]: unknown }>;
  onError(error: Error): void;
  /** Scope named in 401 challenges (MCP Authorization: what a client should ask for first). */
  challengeScope?: string;
  /** Accept DPoP-bound tokens (RFC 9449) with proofs checked by this verifier. */
  dpop?: DpopVerifier;
  /** Hook for later rooms (OAuth server, console) to mount their routes. */
  mount?(app: Hono): void;
}

/**
 * The front door. Order matters: public metadata and health first (no auth), then for /mcp:
 * Host/Origin check → CORS → bearer authentication → body → the MCP endpoint.
 */
export function createHttpApp(deps: HttpAppDeps): Hono {
  const app = new Hono();
  const url = new URL(deps.publicUrl);
  const allowedHosts = [url.host];
  const allowedOrigins = [url.origin, ...deps.allowedOrigins];
  const hostCheck = hostOriginCheck({ allowedHosts, allowedOrigins });
  const resourceMetadataUrl = `${url.origin}/.well-known/oauth-protected-resource${url.pathname === '/' ? '' : url.pathname}/mcp`;

  app.get('/healthz', (c) => c.json(deps.health()));
  app.get('/readyz', async (c) => {
    const readiness = await deps.readiness();
    return c.json(readiness, readiness.ready ? 200 : 503);
  });

  // RFC 9728 §3: metadata for resource <origin>/mcp lives at /.well-known/oauth-protected-resource/mcp.
  // Served before and without any authentication.
  app.use('/.well-known/*', publicCors());
  const metadata = (c: Context) => c.json(deps.resourceMetadata(), 200, { 'cache-control': 'public, max-age=300' });
  app.get('/.well-known/oauth-protected-resource/mcp', metadata);
  app.get('/.well-known/oauth-protected-resource', metadata);

  const mcp = new Hono<McpEnv>();
  mcp.use('*', hostCheck);
  mcp.use('*', mcpCors(allowedOrigins));
  mcp.use(
    '*',
    bearerAuth({
      verify: deps.verify,
      resourceMetadataUrl,
      onFailure: deps.onAuthFailure,
      onServerError: (error) => deps.onError(error as Error),
      ...(deps.challengeScope ? { scope: deps.challengeScope } : {}),
      ...(deps.dpop ? { dpop: { verifier: deps.dpop, url: `${deps.publicUrl}/mcp` } } : {}),
    }),
  );
  mcp.use('*', jsonBody(deps.maxRequestBody));
  mcp.on(['GET', 'POST', 'DELETE'], '/', (c) => deps.mcp(c));
  mcp.all('/', () => jsonRpcErrorResponse(405, -32000, 'Method not allowed', { allow: 'GET, POST, DELETE' }));
  app.route('/mcp', mcp);

  deps.mount?.(app);
  app.notFound(() => new Response(JSON.stringify({ error: 'not_found' }), { status: 404, headers: { 'content-type': 'application/json' } }));
  app.onError((error) => {
    deps.onError(error);
    const unavailable = storeUnavailableFrom(error);
    if (unavailable) return storeUnavailableResponse(unavailable);
    return new Response(JSON.stringify({ error: 'server_error' }), { status: 500, headers: { 'content-type': 'application/json' } });
  });
  return app;
}

export { jsonRpcErrorResponse };
