import type { ClientChannel } from '../../pipeline/types.js';
import type { Principal } from '../../tokens/index.js';

/**
 * The seam between the HTTP connector and whatever supplies credentials for a downstream API
 * (a vault API key, an OAuth client-credentials token, the user's own delegated token, an
 * RFC 8693 exchanged token). The connector builds the request from the agent's arguments,
 * then asks the server's `HttpAuth` what to add; the agent never sees the additions and the
 * connector treats them as secrets: they are never logged, audited (query parameters are
 * redacted by name) or forwarded to another origin on a redirect.
 */

/** The request as it will be sent, before credentials are added (read-only view). */
export interface HttpAuthRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The final URL (base URL + encoded path + query from arguments). Do not mutate. */
  readonly url: URL;
}

/** Who the call is for and what it is. */
export interface HttpAuthCallContext {
  /** The signed-in user the agent acts for (sub, groups, client, scopes). */
  readonly user: Principal;
  /** Configured server name (`servers.<name>`). */
  readonly server: string;
  /** Tool name as the connector knows it (operationId or hand-declared name, unprefixed). */
  readonly tool: string;
  /** Gateway request id (for audit records the provider writes). */
  readonly requestId: string;
  /** Aborted when the client cancels; providers pass it to token requests. */
  readonly signal: AbortSignal;
  /** Back-channel to the MCP client (URL-mode elicitation to the connections page), when there is one. */
  readonly client?: ClientChannel | undefined;
}

/** What to add to the request. Every value here is a credential. */
export interface HttpCredentials {
  /** Header name → value (e.g. `authorization: Bearer …`, `x-api-key: …`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Query parameter name → value (e.g. `api_key`). Redacted in audit records and logs. */
  readonly query?: Readonly<Record<string, string>> | undefined;
}

export interface HttpAuth {
  /** The configured `auth.type` (`none`, `apiKey`, `basic`, `clientCredentials`, `userOAuth`, `tokenExchange`). */
  readonly type: string;
  /**
   * Query parameter names that carry credentials for this server, so the connector can redact
   * them from audited URLs even when a redirect or the base URL carries them.
   */
  readonly secretQueryParams: readonly string[];
  /**
   * Credentials for one request. Throw a `GatehouseError` (stable code) when there are none to
   * give, e.g. the user has not connected their account: the connector turns it into the tool
   * result. May be called concurrently; cache and single-flight inside.
   */
  authorize(request: HttpAuthRequest, ctx: HttpAuthCallContext): Promise<HttpCredentials>;
  /**
   * The downstream API answered 401 to a request carrying `used`: drop whatever cached
   * credential produced it. The connector retries the call once after this resolves, and
   * only for methods without side effects (GET, HEAD) or when the API rejected before acting.
   */
  invalidate?(used: HttpCredentials, ctx: HttpAuthCallContext): Promise<void>;
  /** Called once at gateway start (warm caches, check configuration); failing stops the start. */
  start?(): Promise<void>;
  /** Called once at gateway stop. */
  close?(): Promise<void>;
}

/** `auth` absent or `{ type: none }`: the request goes out as built. */
export const noAuth: HttpAuth = {
  type: 'none',
  secretQueryParams: [],
  authorize: async () => ({}),
};
