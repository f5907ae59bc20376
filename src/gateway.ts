import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { approvalServiceFor, type ApprovalService } from './approvals/index.js';
import { AuditKind, AuditLog } from './audit/index.js';
import type { LoadedConfig } from './config/index.js';
import { secretResolver } from './config/secret-resolver.js';
import type { ConsoleAuth } from './console/index.js';
import { announceApprovals, toolPinsFor, untrustedAware } from './pinning/index.js';
import { connectorsFromConfig } from './connectors/from-config.js';
import { warnInsecureEgress } from './config/egress-warnings.js';
import type { Connector } from './connectors/index.js';
import type { UserDirectory } from './identity/users.js';
import { createLogger, type Logger } from './log/index.js';
import { CatalogView } from './mcp/catalog-view.js';
import { InputRequiredBroker, RequestStateSealer } from './mcp/stateless/resume.js';
import { resumeExecutor } from './mcp/stateless/resume-executor.js';
import { executorFor as executorForServer } from './mcp/executor-for.js';
import { listExecutor } from './mcp/list-executor.js';
import { Naming } from './mcp/naming.js';
import { Router } from './mcp/router.js';
import type { SessionRegistry } from './mcp/session.js';
import type { OAuthServer } from './oauth/server.js';
import { callPipelines } from './pipeline/index.js';
import { AccessListAuthorizer } from './policy/access-list.js';
import { openPolicies, type ClassificationRules } from './policy/open-policies.js';
import { configureSanitizer } from './sanitize/configure.js';
// Types only: Cedar (a ~14 MB WebAssembly module) loads only when `policies:` is set (openPolicies).
import type { PolicyStore } from './policy/policy-store.js';
import type { Authorizer } from './policy/types.js';
import type { RateLimitStore } from './ratelimit/index.js';
import { callLimitsFromConfig } from './ratelimit/call-limits-from-config.js';
import { exclusiveFor, sharedStateFor } from './cluster/index.js';
import { leaseSweepInterval } from './connectors/postgres/sweep-interval.js';
import { wireFrontDoor } from './gateway-front-door.js';
import { wireIdentity } from './gateway-identity.js';
import { wireUpstreams } from './gateway-upstreams.js';
import { sanitizer } from './sanitize/index.js';
import { type ChangeFeed, openStorage, type OAuthStore, type Storage } from './storage/index.js';
import { type AccessTokenVerifier, KeyRing, type RevocationList } from './tokens/index.js';
import { Broker, checkCredentials, MASTER_KEY_ENV, openVault, resolveVaultReferences, type Vault } from './vault/index.js';
import { metricsFromConfig, type MetricsWiring } from './metrics/from-config.js';
import { observedSources } from './metrics/observed-sources.js';
import { warnAuditSync } from './audit/sync-warning.js';
import { tracingFromConfig, type TracingWiring } from './tracing/index.js';
import { ConnectionRegistry } from './connectors/http/auth/connections.js';
import { signedSubjectTokens } from './connectors/http/auth/subject-token.js';

export { RuntimeKeys, tokenIdentity } from './runtime.js';
export { vaultReferences } from './vault/config-references.js';

export interface GatewayOptions {
  log?: Logger;
  /** Environment `${VAR}` references and the master key resolve against (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** How long shutdown waits for in-flight calls. */
  drainTimeoutMs?: number;
  /** How long start waits for shared upstreams before opening the port anyway. */
  upstreamStartWaitMs?: number;
  /** Storage to use instead of opening the data dir (tests). */
  storage?: Storage;
  /** Connectors to use instead of those built from `servers:` (tests). */
  connectors?: Map<string, Connector>;
  /**
   * Memory-only secrets (`gatehouse start --secrets-stdin | --secrets-fd N`): resolved before
   * the encrypted vault, never written anywhere, gone when the process exits.
   */
  memorySecrets?: ReadonlyMap<string, string>;
  /** Who is signed in to the console. Default: the authorization server's browser session (none when `oauth.enabled` is false). */
  consoleAuth?: ConsoleAuth;
  /** Where rate-limit counters live (in memory by default; Redis/PostgreSQL for clusters). */
  rateLimitStore?: RateLimitStore;
}

/** Everything wired together, before any port is open. */
export interface Assembly {
  config: LoadedConfig;
  app: Hono;
  storage: Storage;
  audit: AuditLog;
  tokenKeys: KeyRing;
  verifier: AccessTokenVerifier;
  connectors: Map<string, Connector>;
  router: Router;
  sessions: SessionRegistry;
  /** Stateless requests waiting for the client's input; shutdown cancels them rather than waiting for retries that cannot come. */
  inputRequired: InputRequiredBroker;
  log: Logger;
  vault: Vault;
  /** The JIT credential broker. Identity calls `broker.revokeActor(sub)` when a user is revoked. */
  broker: Broker;
  users: UserDirectory;
  revocations: RevocationList;
  /** Tells in-memory copies (revocations, keys) about commits from other processes. */
  changes: ChangeFeed;
  /** The authorization server's artifact store (memory in `oauth.memoryOnly` mode). */
  oauthStore: OAuthStore;
  /** Undefined when `oauth.enabled` is false. */
  oauth: OAuthServer | undefined;
  /** The Cedar policies in force, when `policies:` is set. */
  policies: PolicyStore | undefined;
  approvals: ApprovalService;
  /** Users' connections to downstream providers (`auth.type: userOAuth`): pass to createHttpAuth as `connections`. */
  connections: ConnectionRegistry;
  /** Where the rate-limit counters live (closed at shutdown). */
  rateLimitStore: RateLimitStore;
  /** Prometheus metrics and their listener (`metrics:`), started by Gateway.start. */
  metrics: MetricsWiring | undefined;
  /** OpenTelemetry traces (`tracing:`). */
  tracing: TracingWiring | undefined;
}

/**
 * The composition root: storage, keys, audit, connectors, pipeline, sessions and the HTTP
 * front door, wired in one place. Each part is built in its own room; nothing listens yet.
 */
export async function assembleGateway(config: LoadedConfig, options: GatewayOptions = {}): Promise<Assembly> {
  const log = options.log ?? createLogger({ level: config.log.level });
  const keyEnv = options.env ?? process.env;
  // Config `${VAR}` references (upstream env, headers, args) resolve without the master key, so
  // no configuration can hand it to a child process.
  const { [MASTER_KEY_ENV]: _masterKey, ...env } = keyEnv;
  const storage = options.storage ?? (await openStorage(config, config.dataDir, { asyncAuditSync: true, auditSync: config.audit.sync, env: keyEnv }));
  warnAuditSync(config.audit.sync, log);
  const tokenKeys = await new KeyRing(storage.signingKeys, 'access-token').init();
  const auditKeys = await new KeyRing(storage.signingKeys, 'audit').init();
  const audit = new AuditLog(storage.audit, auditKeys, log, {
    checkpointEvery: config.audit.checkpointEvery,
    checkpointIntervalMs: config.audit.checkpointInterval,
    // Several nodes: an answered call's outcome is committed before the answer leaves the node.
    durableOutcomes: storage.kind === 'postgres',
  });

  // ---- sessions, upstreams, the request path ----
  // Filled below, once the upstream relay they report to exists; sessions release them on close.
  const connectors = options.connectors ?? new Map<string, Connector>();
  const { stateless, sessions, relay, hooks, forwardRoots, pinning } = wireUpstreams(config, connectors, audit, log);
  const vault = openVault(config, storage, keyEnv, audit, options.memorySecrets);
  const broker = new Broker({
    ...{ store: storage.leases, audit, log: log.child({ component: 'broker' }), instanceId: randomUUID() },
    ...{ janitorIntervalMs: leaseSweepInterval(config), leaseOwners: storage.kind === 'postgres' ? 'cluster' : 'host', exclusive: exclusiveFor(storage) },
  });
  const connections = new ConnectionRegistry(storage.connections, audit);
  const subjectToken = signedSubjectTokens(tokenKeys, config.publicUrl);
  if (!options.connectors)
    for (const [name, c] of await connectorsFromConfig(config, { env, log, hooks, vault, broker, audit, connections, subjectToken })) connectors.set(name, c);
  await checkCredentials(config, vault, log);
  warnInsecureEgress(config, log);
  const outputRules = await configureSanitizer(sanitizer, {
    sanitize: config.sanitize,
    servers: config.servers,
    registeredClients: config.oauth.clients.map((c) => c.clientId),
    resolveSecret: (value, where) =>
      resolveVaultReferences(value, { literal: (text) => secretResolver(env)(text, where), secret: (name) => vault.resolve(name, where) }),
    onReport: (report) => void audit.append(AuditKind.OutputRedacted, { sanitize: report }, { durable: false }),
  });

  const policies = config.policies ? await openPolicies(config, log, audit, outputRules as unknown as ClassificationRules) : undefined;
  const accessList: Authorizer = new AccessListAuthorizer(config.access);
  const authorizer = (): Authorizer => policies?.authorizer ?? accessList;
  const naming = new Naming(
    [...connectors.keys()].map((name) => ({ name, prefix: config.servers[name]?.prefix ?? name })),
    config.naming.mode,
  );
  const pins = toolPinsFor(config, connectors, storage.toolPins, audit, log);
  pinning.pins = pins;
  const view = new CatalogView(connectors, config.servers, naming, authorizer, log, pins);
  const lists = listExecutor(view);
  const executorFor = executorForServer(connectors, lists, untrustedAware(config, audit));
  const approvals = approvalServiceFor(config, storage, audit, log, env);
  const metrics = await metricsFromConfig(config.metrics, { audit, log, sources: observedSources(sessions, storage.approvals) });
  const tracing = await tracingFromConfig(config.tracing, log);
  const observers = [tracing?.observer, metrics?.observer].filter((o) => o !== undefined);
  // Counters and used DPoP proofs: in memory on one node, in the shared store for a cluster.
  const shared = sharedStateFor(storage);
  const { store: limitsStore, callLimits } = await callLimitsFromConfig(config, {
    ...{ shared: shared.rateLimits, given: options.rateLimitStore, vault, env, log },
    metered: metrics?.callLimits,
  });
  // Stateless callers' requests that wait for the client's input, with their sealed requestState.
  const inputRequired = new InputRequiredBroker({ sealer: new RequestStateSealer(), log, timeoutMs: config.limits.inputRequiredTimeout });
  const resume = resumeExecutor(inputRequired, executorFor);
  const { pipeline, listPipeline, resumePipeline } = callPipelines({
    ...{ audit, log, authorizer, approvals, callLimits, broker, sanitizer, outputRules, executorFor, observers },
    resume,
  });
  const router = new Router({
    ...{ connectors, view, sessions, pipeline, listPipeline, resumePipeline, limits: callLimits, audit, log, forwardRoots },
    isolation: (server) => config.servers[server]?.isolation,
    pathArguments: (server, tool) => config.servers[server]?.tools[tool]?.pathArguments,
  });

  // ---- identity: users, revocation, tokens, the authorization server ----
  const identity = await wireIdentity({ config, storage, sessions, broker, tokenKeys, audit, log, env, serverNames: () => [...connectors.keys()] });
  const { changes, users, revocations, verifier, oauthStore, oauth } = identity;
  changes.subscribe(() => announceApprovals(pins, connectors, (instance) => relay.onCatalogChanged(instance as never, 'tools')));

  // ---- the front door ----
  const app = wireFrontDoor({
    ...{ config, storage, audit, log, verifier, audience: identity.audience, clientIp: identity.clientIp, access: identity.access, oauth },
    ...{ consoleAuth: options.consoleAuth, dpopReplays: shared.dpopReplays, connectors, view, router, sessions, stateless, inputRequired },
    ...{ policies, approvals, connections },
  });
  return {
    config,
    app,
    storage,
    audit,
    tokenKeys,
    verifier,
    connectors,
    router,
    sessions,
    inputRequired,
    log,
    vault,
    broker,
    users,
    revocations,
    changes,
    oauthStore,
    oauth,
    policies,
    approvals,
    connections,
    rateLimitStore: limitsStore,
    metrics,
    tracing,
  };
}
