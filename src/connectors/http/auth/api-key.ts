import type { Vault } from '../../../vault/index.js';
import type { HttpAuth, HttpCredentials } from '../auth-port.js';
import type { ApiKeyAuth } from '../../../config/http/auth-schemas.js';
import { CachedSecret } from './resolve-secret.js';

/**
 * A static API key from the vault, in a header (optionally after a prefix such as `Bearer `)
 * or a query parameter. Read from the vault at most once a minute (see CachedSecret), and
 * again at once after the API rejected it.
 */
export function apiKeyAuth(server: string, config: ApiKeyAuth, deps: { vault: Vault; now?: () => number }): HttpAuth {
  const secret = new CachedSecret(deps.vault, config.key, `servers.${server}.http.auth.key`, deps.now);
  return {
    type: 'apiKey',
    secretQueryParams: config.in === 'query' ? [config.name] : [],
    async authorize(): Promise<HttpCredentials> {
      const key = await secret.get();
      return config.in === 'query' ? { query: { [config.name]: key } } : { headers: { [config.name.toLowerCase()]: `${config.prefix}${key}` } };
    },
    async invalidate(): Promise<void> {
      secret.forget();
    },
  };
}
