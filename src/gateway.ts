import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { approvalServiceFor, type ApprovalService } from './approvals/index.js';
import { AuditKind, AuditLog, anonymousActor, namedActor } from './audit/index.js';
import type { LoadedConfig } from './config/index.js';
import { secretResolver } from './config/secret-resolver.js';
import { approvalPages, noConsoleAuth, toolPinPages, type ConsoleAuth } from './console/index.js';
import { announceApprovals, toolPinsFor, untrustedAware, type ToolPins } from './pinning/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { connectorsFromConfig } from './connectors/from-config.js';
import { warnInsecureEgress } from './config/egress-warnings.js';
import type { Connector } from './connectors/index.js';
import { createHttpApp } from './http/index.js';
import { requestClientIp, wideTrustedProxies } from './http/client-ip.js';
import { readinessCheck } from './http/readiness.js';
import { protectedResourceMetadata, resourceMetadataUrl } from './http/resource-metadata.js';
import { ConditionalAccess } from './identity/conditional-access.js';
import { revocationEffects } from './identity/revocation-effects.js';
import { UserDirectory } from './identity/users.js';
import { createLogger, type Logger } from './log/index.js';
import { CatalogView } from './mcp/catalog-view.js';
import { mcpEndpoint } from './mcp/front-door.js';
import { StatelessPool } from './mcp/stateless/index.js';
import { InputRequiredBroker, RequestStateSealer } from './mcp/stateless/resume.js';
import { hardeningStatus } from './hardening/index.js';
import { listExecutor } from './mcp/list-executor.js';
import { Naming } from './mcp/naming.js';
import { Router } from './mcp/router.js';
import { scopeGate } from './mcp/scope-gate.js';
import { SessionRegistry } from './mcp/session.js';
import { UpstreamRelay } from './mcp/upstream-relay.js';
import type { UpstreamHooks } from './connectors/mcp-upstream/index.js';
import type { OAuthServer } from './oauth/server.js';
import { oauthServerFromConfig } from './oauth/from-config.js';
import { callPipelines, type Executor } from './pipeline/index.js';
import { AccessListAuthorizer } from './policy/access-list.js';
import { openPolicies, type ClassificationRules } from './policy/open-policies.js';
import { configureSanitizer } from './sanitize/configure.js';
// Types only: Cedar (a ~14 MB WebAssembly module) loads only when `policies:` is set (openPolicies).
import type { PolicyStore } from './policy/policy-store.js';
import type { Authorizer } from './policy/types.js';
import { CallLimits, type RateLimitStore } from './ratelimit/index.js';
import { sharedStateFor } from './cluster/index.js';
import { tokenIdentity } from './runtime.js';
import { sanitizer } from './sanitize/index.js';
import { ChangeFeed, MemoryOAuthStore, openStorage, type OAuthStore, type Storage } from './storage/index.js';
import { AccessTokenVerifier, BASE_SCOPE, DPOP_ALGS, DpopVerifier, KeyRing, RevocationList, verifierRules } from './tokens/index.js';
import { Broker, checkCredentials, MASTER_KEY_ENV, openVault, resolveVaultReferences, type Vault } from './vault/index.js';
import { connectionsPage } from './console/connections-page.js';
import { metricsFromConfig, type MetricsWiring } from './metrics/index.js';
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
  if (config.audit.sync === 'os')
    log.warn(
      { setting: 'audit.sync', value: 'os' },
      'audit.sync is "os": audit records are written to the operating system, not fsynced; a power loss can lose the last seconds of the audit trail',
    );
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
  const stateless = new StatelessPool();
  const sessions = new SessionRegistry({
    maxPerUser: config.limits.maxSessionsPerUser,
    idleTimeoutMs: config.limits.sessionIdleTimeout,
    onClosed: (session, reason) => {
      stateless.forget(session);
      const others = sessions.forUser(session.sub).size > 0;
      for (const connector of connectors.values()) void connector.release({ sub: session.sub, sessionId: session.id }, others);
      void audit.append(
        AuditKind.SessionEnd,
        { actor: namedActor(session.sub, { session: session.id, client: session.clientId }), reason },
        { durable: false },
      );
    },
  });
  const forwardRoots = (server: string) => config.servers[server]?.forwardRoots === true;
  const relay = new UpstreamRelay({ sessions, audit, log, forwardRoots });
  // Definitions are pinned (or quarantined and audited) as soon as a catalog loads, not only
  // when an agent next lists: a rug pull is on record when it happens.
  let pins: ToolPins | undefined;
  const observeTools = (instance: { server: string; catalog: { tools: Tool[] } }) =>
    void pins
      ?.admit(instance.server, instance.catalog.tools)
      .catch((error: unknown) => log.error({ err: error, server: instance.server }, 'tool pinning failed'));
  const hooks: UpstreamHooks = {
    onServerRequest: (...a) => relay.onServerRequest(...a),
    onNotification: (...a) => relay.onNotification(...a),
    onCatalogChanged: (instance, kind) => {
      if (kind === 'tools') observeTools(instance);
      relay.onCatalogChanged(instance, kind);
    },
    onStateChanged: (instance, state, exit) => {
      if (state === 'ready') observeTools(instance);
      relay.onStateChanged(instance, state, exit);
    },
  };
  const vault = openVault(config, storage, keyEnv, audit, options.memorySecrets);
  const broker = new Broker({ store: storage.leases, audit, log: log.child({ component: 'broker' }), instanceId: randomUUID() });
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
  pins = toolPinsFor(config, connectors, storage.toolPins, audit, log);
  const view = new CatalogView(connectors, config.servers, naming, authorizer, log, pins);
  const lists = listExecutor(view);
  const marked = untrustedAware(config, audit);
  const executorFor = (server: string): Executor => {
    if (server === '*') return lists;
    const connector = connectors.get(server);
    if (!connector) throw new Error(`no connector for server "${server}"`);
    return marked(server, connector);
  };
  const approvals = approvalServiceFor(config, storage, audit, log, env);
  const metrics = metricsFromConfig(config.metrics, { audit, log, sources: observedSources(sessions, storage) });
  const tracing = await tracingFromConfig(config.tracing, log);
  const observers = [tracing?.observer, metrics?.observer].filter((o) => o !== undefined);
  // Counters and used DPoP proofs: in memory on one node, in the shared store for a cluster.
  const shared = sharedStateFor(storage);
  const limitsStore = options.rateLimitStore ?? shared.rateLimits;
  const callLimits = !config.rateLimits.enabled
    ? undefined
    : metrics
      ? metrics.callLimits(config.rateLimits, limitsStore)
      : new CallLimits(config.rateLimits, limitsStore);
  // Stateless callers' requests that wait for the client's input, with their sealed requestState.
  const inputRequired = new InputRequiredBroker({ sealer: new RequestStateSealer(), log, timeoutMs: config.limits.inputRequiredTimeout });
  const resume: Executor = {
    execute: (ctx) => (ctx.control.resume ? inputRequired.resume(ctx.control.resume, ctx.signal) : Promise.reject(new Error('no resume claim'))),
  };
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
  const changes = new ChangeFeed(storage);
  const { threshold, baseDelay, maxDelay } = config.identity.lockout;
  const users = new UserDirectory(storage.users, { threshold, baseDelayMs: baseDelay, maxDelayMs: maxDelay });
  const access = new ConditionalAccess(config.identity.conditionalAccess);
  // The one decision of who the client is (trustedProxies): conditional access, policy
  // context, audit records and the authorization server all use it.
  const clientIp = requestClientIp(config.trustedProxies);
  for (const cidr of wideTrustedProxies(config.trustedProxies)) {
    log.warn(
      { trustedProxy: cidr },
      'trustedProxies lists a wide range: every address in it can claim to forward for any client. List the proxies themselves.',
    );
  }
  const oauthStore: OAuthStore = config.oauth.memoryOnly ? new MemoryOAuthStore(storage.oauth) : storage.oauth;
  const revocations = new RevocationList(storage.revocations, storage.users, revocationEffects({ sessions, oauthStore, broker }));
  changes.subscribe(() => revocations.refresh());
  changes.subscribe(() => tokenKeys.reload());
  changes.subscribe(() => announceApprovals(pins as ToolPins, connectors, (instance) => relay.onCatalogChanged(instance as never, 'tools')));
  const { issuer, audience } = tokenIdentity(config.publicUrl);
  // Memory-only: tokens from this process's authorization server carry its instance id.
  const instanceId = config.oauth.memoryOnly ? randomBytes(16).toString('base64url') : undefined;
  const rules = verifierRules({ instanceId, dpopRequired: config.oauth.dpop.required, revocations, poll: () => changes.poll() });
  const verifier = new AccessTokenVerifier(tokenKeys, { issuer, audience, maxTtlMs: config.tokens.maxTtl }, rules);
  await revocations.refresh();
  const oauth = await oauthServerFromConfig(config, {
    ...{ storage, oauthStore, keys: tokenKeys, verifier, revocations, users, access, audit, log, instanceId, clientIp },
    serverNames: () => [...connectors.keys()],
    secret: secretResolver(env),
    catchUp: () => changes.poll(),
  });

  // ---- the front door ----
  const app = createHttpApp({
    publicUrl: config.publicUrl,
    allowedOrigins: config.cors.allowedOrigins,
    maxRequestBody: config.limits.maxRequestBody,
    verify: (token) => verifier.verify(token),
    onAuthFailure: (error, c) => {
      const body = { actor: anonymousActor(clientIp(c)), method: c.req.method, outcome: { status: 'denied' as const, code: error.code } };
      void audit.append(AuditKind.AuthFailure, body, { durable: false });
    },
    resourceMetadata: () =>
      protectedResourceMetadata({
        resource: audience,
        authorizationServer: oauth ? config.publicUrl : undefined,
        scopes: [BASE_SCOPE, ...[...connectors.keys()].map((name) => `server:${name}`)],
        dpopAlgs: DPOP_ALGS,
        dpopRequired: config.oauth.dpop.required,
      }),
    challengeScope: BASE_SCOPE,
    dpop: new DpopVerifier(undefined, shared.dpopReplays),
    mcp: mcpEndpoint({
      ...{ router, sessions, audit, log, clientIp, maxBatch: config.limits.maxBatch, stateless, inputRequired },
      toolInputSchema: (principal, sessionId, name) =>
        view.resolveTool(name, { sub: principal.sub, sessionId }).then(
          (resolved) => resolved?.tool.inputSchema,
          () => undefined,
        ),
      // What the caller's own filtered list holds now: a listen stream reports only changes to it.
      listDigest: async (principal, sessionId, kind) => {
        const owner = { sub: principal.sub, sessionId };
        const items =
          kind === 'tools'
            ? await view.tools(principal, owner)
            : kind === 'prompts'
              ? await view.prompts(principal, owner)
              : [await view.resources(principal, owner), await view.resourceTemplates(principal, owner)];
        return createHash('sha256').update(JSON.stringify(items)).digest('base64url');
      },
      gate: scopeGate({
        ...{ view, audit, resourceMetadataUrl: resourceMetadataUrl(config.publicUrl) },
        ...(access.empty ? {} : { networkCheck: (principal, ip) => access.checkNetwork(principal.groups, ip)?.message }),
      }),
    }),
    health: () => ({ alive: true }),
    readiness: readinessCheck({
      probeStorage: () => storage.probeWritable(),
      auditHealthy: () => audit.healthy,
      upstreams: () => connectors.values(),
      policies: () => policies?.status() ?? { mode: 'access' as const, rules: config.access.length },
      extra: () => ({ hardening: hardeningStatus() }),
    }),
    onError: (error) => log.error({ err: error }, 'unhandled HTTP error'),
    mount: (app) => {
      if (oauth) app.route('/', oauth.routes() as unknown as Hono);
      // Same sign-in as the console: a person connects their own downstream accounts here.
      app.route(
        '/connections',
        connectionsPage({ registry: connections, auth: options.consoleAuth ?? oauth?.consoleAuth() ?? noConsoleAuth, publicUrl: config.publicUrl, log }),
      );
      // The console's sign-in is the authorization server's (the browser session /account uses);
      // without the authorization server nobody can sign in, so the console decides nothing.
      const auth = options.consoleAuth ?? oauth?.consoleAuth() ?? noConsoleAuth;
      app.route('/console', approvalPages({ service: approvals, auth, publicUrl: config.publicUrl, mfaMaxAgeMs: config.approvals.consoleMfaMaxAge }));
      app.route(
        '/console',
        toolPinPages({
          ...{ store: storage.toolPins, audit, auth, approvers: config.approvals.approvers },
          ...{ publicUrl: config.publicUrl, mfaMaxAgeMs: config.approvals.consoleMfaMaxAge },
        }),
      );
    },
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
    metrics,
    tracing,
  };
}

/** What the metrics gauges read at each scrape. */
function observedSources(sessions: SessionRegistry, storage: Storage) {
  return {
    sessions: () => sessions.size,
    pendingApprovals: async () => {
      const now = Date.now();
      return (await storage.approvals.list({ status: ['pending'] })).filter((a) => a.expiresAt > now).length;
    },
  };
}
