import type { AuditLog } from '../../audit/index.js';
import type { HttpApiServerConfig, LoadedConfig } from '../../config/index.js';
import { auditBlockedEgress } from '../../egress/index.js';
import type { Logger } from '../../log/index.js';
import type { Vault } from '../../vault/index.js';
import { createHttpAuth } from './auth-providers.js';
import { HttpConnector } from './http-connector.js';
import type { ConnectionRegistry } from './auth/connections.js';
import type { SubjectTokenSource } from './auth/token-exchange.js';
import { credentialFetch } from '../credential-fetch.js';

export { HttpConnector, type HttpConnectorDeps, type HttpDownstream } from './http-connector.js';
export { noAuth, type HttpAuth, type HttpAuthCallContext, type HttpAuthRequest, type HttpCredentials } from './auth-port.js';
export { createHttpAuth, type HttpAuthDeps } from './auth-providers.js';

/** The connector for `servers.<name>.http`, with its credential provider and egress guard. */
export async function createHttpConnector(
  name: string,
  server: HttpApiServerConfig,
  deps: {
    config: LoadedConfig;
    log: Logger;
    vault: Vault;
    audit: AuditLog;
    /** Users' connections (`userOAuth`): the provider registers itself for the `/connections` page. */
    connections?: ConnectionRegistry | undefined;
    /** Signs the subject tokens of `tokenExchange`. */
    subjectToken?: SubjectTokenSource | undefined;
  },
): Promise<HttpConnector> {
  const { config, log, vault, audit } = deps;
  const onBlocked = auditBlockedEgress(audit);
  // Token endpoints the provider talks to: the same guard rules as the API (its own host
  // list is the server's egress.allow plus the global one: a token endpoint must be listed).
  const authFetch = credentialFetch(
    {
      purpose: `http server ${name} credentials`,
      allowHosts: [new URL(server.http.baseUrl).hostname, ...server.egress.allow, ...config.egress.allow],
      allowAddresses: server.egress.allowAddresses,
      onBlocked,
    },
    server.egress.dangerouslyAllowInsecureTls,
  );
  const auth = createHttpAuth(name, server.http.auth, {
    log: log.child({ server: name }),
    vault,
    audit,
    fetch: authFetch,
    publicUrl: config.publicUrl,
    baseDir: config.baseDir,
    connections: deps.connections,
    subjectToken: deps.subjectToken,
  });
  return HttpConnector.create(name, server, {
    log,
    baseDir: config.baseDir,
    auth,
    globalAllow: config.egress.allow,
    timeoutMs: server.timeout ?? config.limits.upstreamTimeout,
    onBlocked,
  });
}
