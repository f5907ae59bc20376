import type { Vault } from '../../../vault/index.js';
import type { HttpAuth, HttpCredentials } from '../auth-port.js';
import type { ApiKeyAuth } from './config.js';
import { resolveSecret } from './resolve-secret.js';

/**
 * A static API key from the vault, in a header (optionally after a prefix such as `Bearer `)
 * or a query parameter. Resolved on every request (the vault caches nothing in plain text
 * and registers the value with the log redactor), so a `vault rotate` applies at once.
 */
export function apiKeyAuth(server: string, config: ApiKeyAuth, deps: { vault: Vault }): HttpAuth {
  const consumer = `servers.${server}.http.auth.key`;
  return {
    type: 'apiKey',
    secretQueryParams: config.in === 'query' ? [config.name] : [],
    async authorize(): Promise<HttpCredentials> {
      const key = await resolveSecret(deps.vault, config.key, consumer);
      return config.in === 'query' ? { query: { [config.name]: key } } : { headers: { [config.name.toLowerCase()]: `${config.prefix}${key}` } };
    },
  };
}
