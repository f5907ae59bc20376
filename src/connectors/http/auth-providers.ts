import type { AuditLog } from '../../audit/index.js';
import { ConfigError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { Vault } from '../../vault/index.js';
import type { HttpAuthConfig } from '../../config/http/auth-config.js';
import { noAuth, type HttpAuth } from './auth-port.js';
import { apiKeyAuth } from './auth/api-key.js';
import { basicAuth } from './auth/basic.js';
import { clientCredentialsAuth } from './auth/client-credentials.js';
import type { ConnectionRegistry } from './auth/connections.js';
import { tokenExchangeAuth, type SubjectTokenSource } from './auth/token-exchange.js';
import { UserOAuthProvider } from './auth/user-oauth.js';

/** What a credential provider may use. Egress for token endpoints must go through `fetch`. */
export interface HttpAuthDeps {
  log: Logger;
  vault: Vault;
  audit: AuditLog;
  /** Guarded fetch (egress guard, pinned lookup, size and time limits) for token endpoints. */
  fetch: typeof globalThis.fetch;
  /** Gateway's public URL (the `/connections` page lives under it). */
  publicUrl: string;
  /** Config directory, for relative file paths. */
  baseDir: string;
  /** Users' connections (`userOAuth`): the provider registers itself here for the `/connections` page. */
  connections?: ConnectionRegistry | undefined;
  /** The user's subject token for RFC 8693 exchanges (`tokenExchange`). */
  subjectToken?: SubjectTokenSource | undefined;
}

/** The provider for one server's `http.auth` (absent: no credentials). */
export function createHttpAuth(server: string, config: HttpAuthConfig | undefined, deps: HttpAuthDeps): HttpAuth {
  if (!config || config.type === 'none') return noAuth;
  const where = `servers.${server}.http.auth`;
  if ('dangerouslyAllowHttp' in config && config.dangerouslyAllowHttp) {
    deps.log.warn({ server }, `${where}.dangerouslyAllowHttp is on: tokens for this server may travel over plain http`);
  }
  switch (config.type) {
    case 'apiKey':
      return apiKeyAuth(server, config, deps);
    case 'basic':
      return basicAuth(server, config, deps);
    case 'clientCredentials':
      return clientCredentialsAuth(server, config, deps);
    case 'tokenExchange': {
      if (!deps.subjectToken)
        throw new ConfigError(`${where}: token exchange needs the built-in authorization server's keys`, [{ path: where, message: 'no subject token source' }]);
      return tokenExchangeAuth(server, config, { ...deps, subjectToken: deps.subjectToken });
    }
    case 'userOAuth': {
      if (!deps.connections)
        throw new ConfigError(`${where}: user connections need the gateway's storage`, [{ path: where, message: 'no connection registry' }]);
      const provider = new UserOAuthProvider(server, config, { ...deps, store: deps.connections.store });
      deps.connections.add(provider);
      return provider;
    }
  }
}
