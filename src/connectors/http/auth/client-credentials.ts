import * as oauth from 'oauth4webapi';
import { registerCredential, unregisterCredential } from '../../../log/index.js';
import type { Vault } from '../../../vault/index.js';
import type { HttpAuth, HttpCredentials } from '../auth-port.js';
import type { ClientCredentialsAuth } from '../../../config/http/auth-schemas.js';
import { expiryOf, OAuthEndpoints, tokenEndpointError } from './oauth-endpoints.js';
import { SingleFlight } from './single-flight.js';

/** A token is replaced this long before it expires, so none is sent that dies in flight. */
export const EXPIRY_MARGIN_MS = 30_000;

export interface ClientCredentialsDeps {
  fetch: typeof globalThis.fetch;
  vault: Vault;
  now?: () => number;
}

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) for a service account: the token is cached in
 * memory until shortly before it expires, and concurrent callers share one token request.
 */
export function clientCredentialsAuth(
  server: string,
  config: ClientCredentialsAuth,
  deps: ClientCredentialsDeps,
): HttpAuth & { readonly tokenRequests: number } {
  const endpoints = new OAuthEndpoints(server, config, deps);
  const now = deps.now ?? Date.now;
  const flight = new SingleFlight<{ token: string; expiresAt: number }>();
  let cached: { token: string; expiresAt: number } | undefined;
  let tokenRequests = 0;

  const fetchToken = async (): Promise<{ token: string; expiresAt: number }> => {
    const as = await endpoints.metadata();
    const params = new URLSearchParams();
    if (config.scopes.length > 0) params.set('scope', config.scopes.join(' '));
    if (config.resource) params.set('resource', config.resource);
    tokenRequests++;
    let result: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.clientCredentialsGrantRequest(as, endpoints.client, await endpoints.clientAuth(), params, endpoints.http());
      result = await oauth.processClientCredentialsResponse(as, endpoints.client, response);
    } catch (error) {
      throw tokenEndpointError(server, `The token endpoint for ${server} refused or failed the request.`, error);
    }
    registerCredential(result.access_token);
    return { token: result.access_token, expiresAt: expiryOf(result.expires_in, now()) };
  };

  return {
    type: 'clientCredentials',
    secretQueryParams: [],
    get tokenRequests() {
      return tokenRequests;
    },
    async authorize(): Promise<HttpCredentials> {
      if (!cached || cached.expiresAt - EXPIRY_MARGIN_MS <= now()) {
        const previous = cached;
        cached = await flight.run('token', fetchToken);
        if (previous && previous.token !== cached.token) unregisterCredential(previous.token);
      }
      return { headers: { authorization: `Bearer ${cached.token}` } };
    },
    async invalidate(used: HttpCredentials): Promise<void> {
      if (cached && used.headers?.authorization === `Bearer ${cached.token}`) cached = undefined;
    },
  };
}
