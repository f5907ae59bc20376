import type { AuditLog } from '../audit/index.js';
import { isConnectorServer, isHttpApiServer, isPostgresServer, type LoadedConfig } from '../config/index.js';
import { auditBlockedEgress } from '../egress/index.js';
import { withEgressProxy } from './mcp-upstream/egress-proxy.js';
import { secretResolver } from '../config/secret-resolver.js';
import type { Logger } from '../log/index.js';
import { detectBubblewrap, planSandboxes, type BubblewrapProbe } from '../sandbox/index.js';
import { resolveVaultReferences, type Broker, type Vault } from '../vault/index.js';
import { VAULT_KEYS } from '../vault/config-references.js';
import { McpUpstreamConnector, type UpstreamHooks } from './mcp-upstream/index.js';
import type { Connector } from './types.js';
import type { ConnectionRegistry } from './http/auth/connections.js';
import type { SubjectTokenSource } from './http/auth/token-exchange.js';

export interface ConnectorDeps {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Where traffic an upstream starts on its own goes (sampling, notifications, catalog changes). */
  hooks: UpstreamHooks;
  vault: Vault;
  broker: Broker;
  /** Where refused outbound connections are recorded (`egress.blocked`). */
  audit: AuditLog;
  /** Users' connections to downstream providers (`userOAuth` servers register here). */
  connections?: ConnectionRegistry;
  /** Signs the subject tokens `tokenExchange` servers present. */
  subjectToken?: SubjectTokenSource;
}

/** One connector per entry of `servers:`, keyed by its configured name. Nothing is started. */
export async function connectorsFromConfig(config: LoadedConfig, deps: ConnectorDeps): Promise<Map<string, Connector>> {
  const { env, log, hooks, vault, broker, audit } = deps;
  const interpolateValue = secretResolver(env);
  // Resolved at use (child spawn, connect, admin login), registered with the redactor first.
  const resolveValue = (value: string, where: string): string | Promise<string> => {
    if (!VAULT_KEYS.test(where)) return interpolateValue(value, where);
    return resolveVaultReferences(value, { literal: (text) => interpolateValue(text, where), secret: (name) => vault.resolve(name, where) });
  };
  // What the connectors that fetch their own credentials (HTTP API, SDK process) are given alike.
  const credentialed = { config, log, vault, audit, connections: deps.connections, subjectToken: deps.subjectToken };
  const connectors = new Map<string, Connector>();
  // Before any upstream spawns: a sandbox that cannot be set up as configured stops the start.
  const sandboxes = await planSandboxes(config, env, log);
  let bubblewrap: Promise<BubblewrapProbe> | undefined;
  for (const [name, server] of Object.entries(config.servers)) {
    if (isPostgresServer(server)) {
      connectors.set(
        name,
        // Loaded only when configured: the SQL parser (WebAssembly) and pg stay out of gateways without a database.
        await (await import('./postgres/index.js')).PostgresConnector.create(name, server, {
          log: log.child({ server: name }),
          broker,
          baseDir: config.baseDir,
          resolveSecret: async (value, where) => resolveValue(value, where),
        }),
      );
      continue;
    }
    if (isHttpApiServer(server)) {
      connectors.set(name, await (await import('./http/index.js')).createHttpConnector(name, server, credentialed));
      continue;
    }
    if (isConnectorServer(server)) {
      connectors.set(
        name,
        await (await import('./sdk-process/index.js')).createSdkConnector(name, server, {
          ...credentialed,
          env,
          probe: () => (bubblewrap ??= detectBubblewrap({ searchPath: env.PATH })),
        }),
      );
      continue;
    }
    connectors.set(
      name,
      new McpUpstreamConnector(
        name,
        server,
        {
          // Not a child logger bound to { server }: every upstream log call names its server
          // itself, and a bound field would appear twice in the JSON line.
          log,
          resolveValue,
          path: env.PATH,
          baseDir: config.baseDir,
          maxResponseBytes: config.limits.maxUpstreamResponse,
          requestTimeoutMs: server.timeout ?? config.limits.upstreamTimeout,
          startupTimeoutMs: 30_000,
          restartBackoffInitialMs: config.upstream.restartBackoffInitial,
          restartBackoffMaxMs: config.upstream.restartBackoffMax,
          sandbox: await withEgressProxy(name, server, sandboxes.get(name), config, audit),
          egress: { allow: config.egress.allow, onBlocked: auditBlockedEgress(audit) },
        },
        hooks,
      ),
    );
  }
  return connectors;
}
