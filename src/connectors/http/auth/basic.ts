import type { Vault } from '../../../vault/index.js';
import type { HttpAuth, HttpCredentials } from '../auth-port.js';
import type { BasicAuth } from '../../../config/http/auth-schemas.js';
import { CredentialUnavailableError } from './errors.js';
import { CachedSecret } from './resolve-secret.js';

/** HTTP Basic (RFC 7617) with the password (and optionally the user name) from the vault. */
export function basicAuth(server: string, config: BasicAuth, deps: { vault: Vault; now?: () => number }): HttpAuth {
  const password = new CachedSecret(deps.vault, config.password, `servers.${server}.http.auth.password`, deps.now);
  const username = config.username.startsWith('vault:')
    ? new CachedSecret(deps.vault, config.username.slice('vault:'.length), `servers.${server}.http.auth.username`, deps.now)
    : undefined;
  return {
    type: 'basic',
    secretQueryParams: [],
    async authorize(): Promise<HttpCredentials> {
      const user = username ? await username.get() : config.username;
      // RFC 7617 §2: the user-id cannot contain a colon; control characters never go into a header.
      if (user.includes(':') || /[\0-\x1f\x7f]/.test(user)) {
        throw new CredentialUnavailableError('credentials.unavailable', `servers.${server}.http.auth.username cannot contain ":" or control characters`);
      }
      return { headers: { authorization: `Basic ${Buffer.from(`${user}:${await password.get()}`, 'utf8').toString('base64')}` } };
    },
    async invalidate(): Promise<void> {
      password.forget();
      username?.forget();
    },
  };
}
