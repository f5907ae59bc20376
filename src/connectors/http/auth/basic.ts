import type { Vault } from '../../../vault/index.js';
import type { HttpAuth, HttpCredentials } from '../auth-port.js';
import type { BasicAuth } from './config.js';
import { CredentialUnavailableError } from './errors.js';
import { resolveSecret } from './resolve-secret.js';

/** HTTP Basic (RFC 7617) with the password (and optionally the user name) from the vault. */
export function basicAuth(server: string, config: BasicAuth, deps: { vault: Vault }): HttpAuth {
  const consumer = `servers.${server}.http.auth.password`;
  return {
    type: 'basic',
    secretQueryParams: [],
    async authorize(): Promise<HttpCredentials> {
      const username = config.username.startsWith('vault:')
        ? await resolveSecret(deps.vault, config.username.slice('vault:'.length), `servers.${server}.http.auth.username`)
        : config.username;
      // RFC 7617 §2: the user-id cannot contain a colon; control characters never go into a header.
      if (username.includes(':') || /[\0-\x1f\x7f]/.test(username)) {
        throw new CredentialUnavailableError('credentials.unavailable', `servers.${server}.http.auth.username cannot contain ":" or control characters`);
      }
      const password = await resolveSecret(deps.vault, config.password, consumer);
      return { headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}` } };
    },
  };
}
