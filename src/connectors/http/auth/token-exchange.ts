import * as oauth from 'oauth4webapi';
import { registerCredential, unregisterCredential } from '../../../log/index.js';
import type { Principal } from '../../../tokens/index.js';
import type { Vault } from '../../../vault/index.js';
import type { HttpAuth, HttpAuthCallContext, HttpCredentials } from '../auth-port.js';
import { EXPIRY_MARGIN_MS } from './client-credentials.js';
import type { TokenExchangeAuth } from '../../../config/http/auth-schemas.js';
import { expiryOf, OAuthEndpoints, tokenEndpointError } from './oauth-endpoints.js';
import { SingleFlight } from './single-flight.js';

const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/**
 * The token Gatehouse presents as the user (RFC 8693 `subject_token`), made for one STS
 * (`sts`: its issuer, else its token endpoint) and one exchange (`audience`, `scopes`).
 */
export type SubjectTokenSource = (request: {
  user: Principal;
  sts: string;
  audience: string;
  scopes: readonly string[];
}) => Promise<{ token: string; type: string }>;

export interface TokenExchangeDeps {
  fetch: typeof globalThis.fetch;
  vault: Vault;
  subjectToken: SubjectTokenSource;
  now?: () => number;
}

/**
 * RFC 8693 token exchange against a downstream security token service: the API gets a token
 * for this user, down-scoped to this operation (audience and scopes per tool). Tokens are
 * cached in memory per user, audience and scope set until shortly before they expire.
 */
export function tokenExchangeAuth(server: string, config: TokenExchangeAuth, deps: TokenExchangeDeps): HttpAuth & { readonly exchanges: number } {
  const endpoints = new OAuthEndpoints(server, config, deps);
  const now = deps.now ?? Date.now;
  const flight = new SingleFlight<{ token: string; expiresAt: number }>();
  const cache = new Map<string, { token: string; expiresAt: number }>();
  let exchanges = 0;

  const target = (tool: string) => {
    const perTool = config.tools[tool];
    return { audience: perTool?.audience ?? config.audience, scopes: perTool?.scopes ?? config.scopes };
  };

  const exchange = async (user: Principal, audience: string, scopes: readonly string[]): Promise<{ token: string; expiresAt: number }> => {
    const as = await endpoints.metadata();
    const subject = await deps.subjectToken({ user, sts: config.issuer ?? (config.tokenUrl as string), audience, scopes });
    const params = new URLSearchParams({
      subject_token: subject.token,
      subject_token_type: subject.type,
      requested_token_type: ACCESS_TOKEN_TYPE,
      audience,
    });
    if (scopes.length > 0) params.set('scope', scopes.join(' '));
    if (config.resource) params.set('resource', config.resource);
    exchanges++;
    let result: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.genericTokenEndpointRequest(as, endpoints.client, await endpoints.clientAuth(), GRANT_TYPE, params, endpoints.http());
      result = await oauth.processGenericTokenEndpointResponse(as, endpoints.client, response);
    } catch (error) {
      throw tokenEndpointError(server, `The token service for ${server} refused or failed the exchange.`, error);
    }
    registerCredential(result.access_token);
    return { token: result.access_token, expiresAt: expiryOf(result.expires_in, now()) };
  };

  const keyOf = (ctx: HttpAuthCallContext) => {
    const { audience, scopes } = target(ctx.tool);
    return { key: JSON.stringify([ctx.user.sub, audience, [...scopes].sort()]), audience, scopes };
  };

  return {
    type: 'tokenExchange',
    secretQueryParams: [],
    get exchanges() {
      return exchanges;
    },
    async authorize(_request, ctx): Promise<HttpCredentials> {
      const { key, audience, scopes } = keyOf(ctx);
      let cached = cache.get(key);
      if (!cached || cached.expiresAt - EXPIRY_MARGIN_MS <= now()) {
        const previous = cached;
        cached = await flight.run(key, () => exchange(ctx.user, audience, scopes));
        cache.set(key, cached);
        if (previous && previous.token !== cached.token) unregisterCredential(previous.token);
      }
      return { headers: { authorization: `Bearer ${cached.token}` } };
    },
    async invalidate(used, ctx): Promise<void> {
      const { key } = keyOf(ctx);
      if (used.headers?.authorization === `Bearer ${cache.get(key)?.token}`) cache.delete(key);
    },
  };
}
