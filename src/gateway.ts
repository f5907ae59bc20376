import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { approvalServiceFor, type ApprovalService } from './approvals/index.js';
import { auditBlockedEgress, createGuardedFetch, EgressGuard, parseCidr } from './egress/index.js';
import { requestClientIp } from './http/client-ip.js';
import { AuditKind, AuditLog } from './audit/index.js';
import { approvalPages, noConsoleAuth, type ConsoleAuth } from './console/index.js';
import { interpolate, isPostgresServer, MissingVariableError, type LoadedConfig } from './config/index.js';
import type { Connector } from './connectors/index.js';
import { McpUpstreamConnector, type UpstreamHooks } from './connectors/mcp-upstream/index.js';
import { ConfigError } from './errors/index.js';
import { createHttpApp } from './http/index.js';
import { createLogger, registerCredential, secrets, type Logger } from './log/index.js';
import { CatalogView } from './mcp/catalog-view.js';
import { mcpEndpoint } from './mcp/front-door.js';
import { Naming } from './mcp/naming.js';
import { Router } from './mcp/router.js';
import { SessionRegistry, type McpSession } from './mcp/session.js';
import {
  auditIntentStage,
  approveStage,
  auditOutcomeStage,
  authorizeStage,
  brokerStage,
  composePipeline,
  executeStage,
  orderStages,
  rateLimitStage,
  sanitizeStage,
  tokenScopeStage,
  validateStage,
  type Executor,
  type Stage,
} from './pipeline/index.js';
import { AccessListAuthorizer } from './policy/access-list.js';
import { InputSchemaValidator } from './policy/input-schema.js';
import type { Authorizer } from './policy/types.js';
// Cedar (a ~14 MB WebAssembly module) loads only when `policies:` is set: see openPolicies.
import type { PolicyEvent, PolicyStatus, PolicyStore } from './policy/policy-store.js';
import { CallLimits, MemoryRateLimitStore, type RateLimitStore } from './ratelimit/index.js';
import { sanitizer } from './sanitize/index.js';
import { Broker, findInlineSecrets, loadMasterKey, MASTER_KEY_ENV, resolveVaultReferences, Vault, type KeyProvider } from './vault/index.js';
import { ChangeFeed, MemoryOAuthStore, openStorage, type OAuthStore, type RevocationEntry, type Storage } from './storage/index.js';
import { AccessTokenVerifier, DPOP_ALGS, DpopError, DpopVerifier, KeyRing, RevocationList, BASE_SCOPE, TokenError, type Principal } from './tokens/index.js';
import { ConditionalAccess } from './identity/conditional-access.js';
import { UpstreamIdp } from './identity/federation.js';
import { revoke } from './identity/revoke.js';
import { UserDirectory } from './identity/users.js';
import { OAuthServer } from './oauth/server.js';
import { scopeGate } from './mcp/scope-gate.js';
import { connectionsPage } from './console/connections-page.js';
import { ConnectionRegistry } from './connectors/http/auth/connections.js';
import { RuntimeKeys, tokenIdentity } from './runtime.js';
import { VAULT_KEYS, vaultReferences } from './vault/config-references.js';
import { VERSION } from './version.js';

export { RuntimeKeys, tokenIdentity } from './runtime.js';

export interface GatewayOptions {
  log?: Logger;
  /** Environment `${VAR}` references resolve against (default: process.env). */
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
}

export { vaultReferences } from './vault/config-references.js';

/** The vault over the data dir's store, with the master key loaded on first need. */
function openVault(config: LoadedConfig, storage: Storage, env: NodeJS.ProcessEnv, audit: AuditLog, memory: ReadonlyMap<string, string> | undefined): Vault {
  // The master key leaves the process environment as soon as the gateway starts: nothing the
  // gateway spawns could inherit it even if it passed process.env along.
  const keyEnv: NodeJS.ProcessEnv = { ...env };
  if (env === process.env && process.env[MASTER_KEY_ENV] !== undefined) delete process.env[MASTER_KEY_ENV];
  let provider: KeyProvider | undefined;
  return new Vault({
    store: storage.vault,
    memory,
    keys: () =>
      (provider ??= loadMasterKey({
        env: keyEnv,
        dataDir: config.dataDir,
        keyFile: config.vault.keyFile ? path.resolve(config.baseDir, config.vault.keyFile) : undefined,
      }).provider),
    onUse: (name, consumer, origin) => void audit.append(AuditKind.VaultUse, { secret: name, consumer, origin }, { durable: false }),
  });
}

/** Resolves `${VAR}` in a configured value; every resolved secret is redacted from logs from then on. */
function secretResolver(env: NodeJS.ProcessEnv) {
  return (value: string, where: string): string => {
    try {
      return interpolate(value, { env, onSecret: (s) => secrets.register(s) });
    } catch (error) {
      if (error instanceof MissingVariableError) throw new ConfigError(`${where}: ${error.message}`, [{ path: where, message: error.message }]);
      throw error;
    }
  };
}

async function buildConnectors(
  config: LoadedConfig,
  env: NodeJS.ProcessEnv,
  log: Logger,
  hooks: UpstreamHooks,
  vault: Vault,
  broker: Broker,
): Promise<Map<string, Connector>> {
  const interpolateValue = secretResolver(env);
  // Resolved at use (child spawn, connect, admin login), registered with the redactor first.
  const resolveValue = (value: string, where: string): string | Promise<string> => {
    if (!VAULT_KEYS.test(where)) return interpolateValue(value, where);
    return resolveVaultReferences(value, { literal: (text) => interpolateValue(text, where), secret: (name) => vault.resolve(name, where) });
  };
  const connectors = new Map<string, Connector>();
  for (const [name, server] of Object.entries(config.servers)) {
    if (isPostgresServer(server)) {
      connectors.set(
        name,
        // Loaded only when configured: the SQL parser (WebAssembly) and pg stay out of gateways without a database.
        await (await import('./connectors/postgres/index.js')).PostgresConnector.create(name, server, {
          log: log.child({ server: name }),
          broker,
          baseDir: config.baseDir,
          resolveSecret: async (value, where) => resolveValue(value, where),
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
        },
        hooks,
      ),
    );
  }
  return connectors;
}

/** Start-time warnings: credentials written into the config, vault references that cannot resolve. */
async function checkCredentials(config: LoadedConfig, vault: Vault, log: Logger): Promise<void> {
  for (const finding of findInlineSecrets(config, (value) => registerCredential(value))) {
    log.warn(
      { path: finding.path },
      `credential in the configuration: ${finding.reason}. Store it in the vault (gatehouse vault put NAME) and reference it as vault:NAME`,
    );
  }
  const references = vaultReferences(config);
  for (const { path: where, name } of references) {
    if (!(await vault.has(name))) {
      log.error(
        { path: where, secret: name },
        `vault secret "${name}" does not exist; add it with: gatehouse vault put ${name} (the server starts once it exists)`,
      );
    }
  }
}

/**
 * The composition root: storage, keys, audit, connectors, pipeline, sessions and the HTTP
 * front door, wired in one place. Nothing listens yet.
 */
export async function assembleGateway(config: LoadedConfig, options: GatewayOptions = {}): Promise<Assembly> {
  const log = options.log ?? createLogger({ level: config.log.level });
  const env = options.env ?? process.env;
  const storage = options.storage ?? openStorage(config.dataDir, { asyncAuditSync: true });
  const tokenKeys = await new KeyRing(storage.signingKeys, 'access-token').init();
  const auditKeys = await new KeyRing(storage.signingKeys, 'audit').init();
  const audit = new AuditLog(storage.audit, auditKeys, log, {
    checkpointEvery: config.audit.checkpointEvery,
    checkpointIntervalMs: config.audit.checkpointInterval,
  });

  let router: Router | undefined;
  const hooks: UpstreamHooks = {
    onServerRequest: (...a) => (router as Router).onServerRequest(...a),
    onNotification: (...a) => router?.onNotification(...a),
    onCatalogChanged: (...a) => router?.onCatalogChanged(...a),
    onStateChanged: (instance, state, exit) => {
      if (state === 'restarting' && exit) {
        void audit.append(AuditKind.UpstreamExit, { target: { server: instance.server }, exit: { code: exit.code, signal: exit.signal } }, { durable: false });
      }
    },
  };
  const vault = openVault(config, storage, env, audit, options.memorySecrets);
  const broker = new Broker({ store: storage.leases, audit, log: log.child({ component: 'broker' }), instanceId: randomUUID() });
  const connectors = options.connectors ?? (await buildConnectors(config, env, log, hooks, vault, broker));
  await checkCredentials(config, vault, log);

  const policies = config.policies ? await openPolicies(config, log, audit) : undefined;
  const accessList: Authorizer = new AccessListAuthorizer(config.access);
  const authorizer = (): Authorizer => policies?.authorizer ?? accessList;
  const naming = new Naming(
    [...connectors.keys()].map((name) => ({ name, prefix: config.servers[name]?.prefix ?? name })),
    config.naming.mode,
  );
  const view = new CatalogView(connectors, config.servers, naming, authorizer, log);
  const executorFor = (server: string): Executor => {
    if (server === '*') return (router as Router).listExecutor;
    const connector = connectors.get(server);
    if (!connector) throw new Error(`no connector for server "${server}"`);
    return connector;
  };
  const approvals = approvalServiceFor(config, storage, audit, log, env);
  const callLimits = config.rateLimits.enabled ? new CallLimits(config.rateLimits, options.rateLimitStore ?? new MemoryRateLimitStore()) : undefined;
  const stages: Stage[] = [
    auditOutcomeStage(audit),
    tokenScopeStage(),
    validateStage(new InputSchemaValidator(), authorizer),
    authorizeStage(authorizer, { approvals }),
    ...(callLimits ? [rateLimitStage(callLimits)] : []),
    approveStage(approvals, log),
    auditIntentStage(audit),
    brokerStage(broker),
    sanitizeStage(sanitizer),
    executeStage(executorFor),
  ];
  const pipeline = composePipeline(orderStages(stages));
  // Lists are authorized item by item in the catalog view; they only need their result checked.
  const listPipeline = composePipeline(orderStages([sanitizeStage(sanitizer), executeStage(executorFor)]));
  const sessions = new SessionRegistry({
    maxPerUser: config.limits.maxSessionsPerUser,
    idleTimeoutMs: config.limits.sessionIdleTimeout,
    onClosed: (session, reason) => {
      const others = sessions.forUser(session.sub).size > 0;
      for (const connector of connectors.values()) void connector.release({ sub: session.sub, sessionId: session.id }, others);
      void audit.append(AuditKind.SessionEnd, { actor: { sub: session.sub, session: session.id, client: session.clientId }, reason }, { durable: false });
    },
  });
  router = new Router({
    connectors,
    view,
    sessions,
    pipeline,
    listPipeline,
    limits: callLimits,
    audit,
    log,
    forwardRoots: (server) => config.servers[server]?.forwardRoots === true,
    isolation: (server) => config.servers[server]?.isolation,
    pathArguments: (server, tool) => config.servers[server]?.tools[tool]?.pathArguments,
  });

  // ---- identity: users, revocation, the authorization server ----
  const changes = new ChangeFeed(storage);
  const connections = new ConnectionRegistry(storage.connections, audit);
  const users = new UserDirectory(storage.users, {
    threshold: config.identity.lockout.threshold,
    baseDelayMs: config.identity.lockout.baseDelay,
    maxDelayMs: config.identity.lockout.maxDelay,
  });
  const access = new ConditionalAccess(config.identity.conditionalAccess);
  // The one decision of who the client is (trustedProxies): conditional access, policy
  // context, audit records and the authorization server all use it.
  const clientIp = requestClientIp(config.trustedProxies);
  for (const cidr of config.trustedProxies) {
    const [address, bits] = parseCidr(cidr) ?? [];
    if (address && bits !== undefined && bits < (address.kind() === 'ipv4' ? 16 : 48)) {
      log.warn(
        { trustedProxy: cidr },
        'trustedProxies lists a wide range: every address in it can claim to forward for any client. List the proxies themselves.',
      );
    }
  }
  const oauthStore: OAuthStore = config.oauth.memoryOnly ? new MemoryOAuthStore(storage.oauth) : storage.oauth;
  const closeWhere = (match: (s: McpSession) => boolean) => {
    for (const session of [...sessions.values()]) if (match(session)) void sessions.close(session, 'revoked');
  };
  // What a revocation does besides refusing tokens: end the MCP sessions it covers and drop
  // what could mint new tokens (refresh-token families, codes, sign-in sessions).
  const applyRevocation = async (entry: RevocationEntry): Promise<void> => {
    const v = entry.value;
    switch (entry.kind) {
      case 'user':
        closeWhere((s) => s.sub === v);
        await oauthStore.deleteByAccount(v);
        // Just-in-time credentials end with the user's access, not at their TTL.
        await broker.revokeActor(v, 'user revoked');
        break;
      case 'client':
        closeWhere((s) => s.clientId === v);
        await oauthStore.deleteByClient(v);
        break;
      case 'grant':
        closeWhere((s) => s.openedWith?.grantId === v);
        await oauthStore.revokeByGrantId(v);
        break;
      case 'token':
        closeWhere((s) => s.openedWith?.jti === v);
        break;
      case 'session': {
        const session = sessions.get(v);
        if (!session) break;
        void sessions.close(session, 'revoked');
        const opened = session.openedWith;
        if (opened) {
          // The authorization that opened the session goes too; recorded after this refresh finishes.
          setImmediate(() => {
            const base = { revokedAt: entry.revokedAt, expiresAt: entry.expiresAt, revokedBy: entry.revokedBy, reason: `session ${v} revoked` };
            void revocations.add({ kind: 'token', value: opened.jti, ...base });
            if (opened.grantId) void revocations.add({ kind: 'grant', value: opened.grantId, ...base });
          });
        }
        break;
      }
    }
  };
  const revocations = new RevocationList(storage.revocations, storage.users, applyRevocation);
  changes.subscribe(() => revocations.refresh());
  changes.subscribe(() => tokenKeys.reload());

  const { issuer, audience } = tokenIdentity(config.publicUrl);
  // Memory-only: tokens from this process's authorization server carry its instance id.
  const instanceId = config.oauth.memoryOnly ? randomBytes(16).toString('base64url') : undefined;
  const verifier = new AccessTokenVerifier(tokenKeys, { issuer, audience, maxTtlMs: config.tokens.maxTtl }, [
    // Memory-only: sign-ins do not survive a restart, and neither do the access tokens they
    // produced (those carry a grant); CLI-minted service tokens are not sign-ins.
    ...(instanceId
      ? [
          (principal: Principal) => {
            if (principal.grantId !== undefined && principal.claims.gatehouse_instance !== instanceId) throw new TokenError('auth.token_revoked');
          },
        ]
      : []),
    // `oauth.dpop.required`: tokens from the authorization server must be sender-constrained
    // (operator-minted CLI tokens cannot be, and are the operator's responsibility).
    ...(config.oauth.dpop.required
      ? [
          (principal: Principal) => {
            if (principal.dpopJkt === undefined && principal.clientId !== 'gatehouse-cli') throw new DpopError('auth.dpop_required');
          },
        ]
      : []),
    // Catch up with revocations other processes wrote (one PRAGMA read when nothing changed), then check.
    (principal) => {
      const pending = changes.poll();
      if (pending) return pending.then(() => revocations.check(principal));
      revocations.check(principal);
    },
  ]);
  await revocations.refresh();

  const resolveSecret = secretResolver(env);
  const maxTokenTtlMs = config.tokens.maxTtl;
  const recordRevocation = (entry: Omit<RevocationEntry, 'id'>) => revocations.add(entry);
  const upstreamIdp = config.identity.upstream
    ? new UpstreamIdp(
        config.identity.upstream,
        `${config.publicUrl}/oauth/sso/callback`,
        config.identity.upstream.clientSecret ? resolveSecret(config.identity.upstream.clientSecret, 'identity.upstream.clientSecret') : undefined,
        log.child({ room: 'federation' }),
        // The IdP is the operator's, its endpoints come from its discovery document: both go
        // through the egress guard (a private IdP must be listed in egress.allowAddresses).
        createGuardedFetch({
          guard: new EgressGuard({ purpose: 'identity provider', allowAddresses: config.egress.allowAddresses, onBlocked: auditBlockedEgress(audit) }),
          maxResponseBytes: 256 * 1024,
          timeoutMs: 10_000,
        }).fetch,
      )
    : undefined;
  if (config.identity.upstream?.dangerouslyAllowHttpIssuer) {
    log.warn(
      { issuer: config.identity.upstream.issuer },
      'identity.upstream.dangerouslyAllowHttpIssuer is on: the IdP is reached over plain HTTP. Use only in tests.',
    );
  }
  const oauth = config.oauth.enabled
    ? await OAuthServer.create({
        config,
        store: oauthStore,
        settings: storage.settings,
        consents: storage.consents,
        keys: tokenKeys,
        verifier,
        users,
        access,
        upstream: upstreamIdp,
        audit,
        log: log.child({ room: 'oauth' }),
        serverNames: () => [...connectors.keys()],
        instanceId,
        secret: resolveSecret,
        clientIp,
        revokeToken: async (jti, expiresAt, by) => {
          await revoke(
            { storage, audit, maxTokenTtlMs, record: (e) => recordRevocation({ ...e, expiresAt: Math.max(expiresAt, Date.now()) + 60_000 }) },
            { kind: 'token', value: jti, by: `client:${by}`, reason: 'revoked by its client (RFC 7009)' },
          );
        },
        afterLatestRevocation: () => revocations.afterLatestCutoff(),
        catchUp: () => changes.poll(),
        revokeGrant: async (grantId, by) => {
          await revoke(
            { storage: { ...storage, oauth: oauthStore }, audit, maxTokenTtlMs, record: recordRevocation },
            { kind: 'grant', value: grantId, by, reason: 'revoked on the connected-clients page' },
          );
        },
      })
    : undefined;
  const dpop = new DpopVerifier();
  const resourceMetadataUrl = `${new URL(config.publicUrl).origin}/.well-known/oauth-protected-resource${new URL(config.publicUrl).pathname === '/' ? '' : new URL(config.publicUrl).pathname}/mcp`;
  const readiness = async () => {
    let storageOk = true;
    try {
      await storage.probeWritable();
    } catch {
      storageOk = false;
    }
    const upstreams: Record<string, { ready: boolean; detail: Record<string, unknown> }> = {};
    for (const connector of connectors.values()) {
      const status = connector.status();
      upstreams[connector.name] = { ready: status.ready, detail: status.detail };
    }
    // A refused policy reload does not make the node unready (the previous policies are in
    // force); `policies.error` says so and `gatehouse status` reports it.
    const policyStatus: PolicyStatus | { mode: 'access'; rules: number } = policies?.status() ?? { mode: 'access', rules: config.access.length };
    return {
      ready: storageOk && audit.healthy && Object.values(upstreams).every((u) => u.ready),
      storage: storageOk,
      audit: audit.healthy,
      upstreams,
      policies: policyStatus,
    };
  };
  const app = createHttpApp({
    publicUrl: config.publicUrl,
    allowedOrigins: config.cors.allowedOrigins,
    maxRequestBody: config.limits.maxRequestBody,
    verify: (token) => verifier.verify(token),
    onAuthFailure: (error, c) => {
      void audit.append(
        AuditKind.AuthFailure,
        { actor: { sub: '-', ip: clientIp(c) }, method: c.req.method, outcome: { status: 'denied', code: error.code } },
        { durable: false },
      );
    },
    resourceMetadata: () => ({
      resource: audience,
      // RFC 9728 §2: the authorization server that issues tokens for this resource.
      ...(oauth ? { authorization_servers: [config.publicUrl] } : {}),
      bearer_methods_supported: ['header'],
      resource_name: 'Gatehouse',
      scopes_supported: [BASE_SCOPE, ...[...connectors.keys()].map((name) => `server:${name}`)],
      dpop_signing_alg_values_supported: [...DPOP_ALGS],
      ...(config.oauth.dpop.required ? { dpop_bound_access_tokens_required: true } : {}),
    }),
    challengeScope: BASE_SCOPE,
    dpop,
    mcp: mcpEndpoint({
      router,
      sessions,
      audit,
      log,
      clientIp,
      maxBatch: config.limits.maxBatch,
      gate: scopeGate({
        view,
        audit,
        resourceMetadataUrl,
        ...(access.empty ? {} : { networkCheck: (principal, ip) => access.checkNetwork(principal.groups, ip)?.message }),
      }),
    }),
    health: () => ({ alive: true }),
    readiness,
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
      app.route(
        '/console',
        approvalPages({
          service: approvals,
          auth: options.consoleAuth ?? oauth?.consoleAuth() ?? noConsoleAuth,
          publicUrl: config.publicUrl,
          mfaMaxAgeMs: config.approvals.consoleMfaMaxAge,
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
  };
}

/** Loads the policy folder (a gateway does not start on policies it cannot load) and audits every (re)load. */
async function openPolicies(config: LoadedConfig, log: Logger, audit: AuditLog): Promise<PolicyStore> {
  const [{ PolicyStore }, { formatProblem, PolicyLoadError }] = await Promise.all([import('./policy/policy-store.js'), import('./policy/cedar/policy-set.js')]);
  const onEvent = (event: PolicyEvent) => {
    if (event.kind === 'loaded') {
      const body = { policies: { folder: config.policies, count: event.set.policies.length, files: event.set.files, digest: event.set.digest } };
      void audit.append(event.reload ? AuditKind.PolicyReloaded : AuditKind.PolicyLoaded, body, { durable: false });
    } else {
      void audit.append(AuditKind.PolicyReloadRefused, { policies: { folder: config.policies, problems: event.problems } }, { durable: false });
    }
  };
  const settings = {
    timeZone: config.policySettings.timeZone,
    destructiveTools: config.policySettings.destructiveTools,
    classification: (server: string, tool: string) => config.servers[server]?.tools[tool]?.classification,
  };
  try {
    return PolicyStore.open(config.policies as string, settings, log, onEvent);
  } catch (error) {
    if (error instanceof PolicyLoadError) {
      const issues = error.problems.map((p) => ({ path: `policies (${formatProblem(p).split(': ')[0]})`, message: p.message }));
      throw new ConfigError(`the policies in ${config.policies} cannot be loaded:\n${error.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, issues);
    }
    throw error;
  }
}

/**
 * A running gateway. `start` opens the port only once signing keys exist and the public URL is
 * published in the data dir, so a token issued right after is accepted.
 */
export class Gateway {
  #http: ServerType | undefined;
  #stopping: Promise<void> | undefined;
  #housekeeping: NodeJS.Timeout | undefined;
  port = 0;

  private constructor(
    readonly assembly: Assembly,
    private readonly options: GatewayOptions,
  ) {}

  get url(): string {
    return this.assembly.config.publicUrl;
  }
  get log(): Logger {
    return this.assembly.log;
  }

  static async start(loaded: LoadedConfig, options: GatewayOptions = {}): Promise<Gateway> {
    let config = loaded;
    if (config.listen.port === 0) {
      // An ephemeral port must be known before the token audience is fixed: take one now.
      const port = await freePort(config.listen.host);
      config = {
        ...config,
        listen: { ...config.listen, port },
        publicUrl: config.publicUrlDerived ? derivePublicUrl(config.listen.host, port) : config.publicUrl,
      };
    }
    const assembly = await assembleGateway(config, options);
    const { storage, connectors, audit, log, sessions, broker } = assembly;
    const gateway = new Gateway(assembly, options);

    // Shared upstreams start before the port opens, so the first tools/list sees them; one that
    // fails keeps restarting with backoff and /readyz says so.
    await Promise.race([
      Promise.allSettled([...connectors.values()].map((c) => c.start())),
      new Promise((resolve) => setTimeout(resolve, options.upstreamStartWaitMs ?? 30_000).unref()),
    ]);

    const { issuer, audience } = tokenIdentity(config.publicUrl);
    await storage.settings.set(RuntimeKeys.issuer, issuer);
    await storage.settings.set(RuntimeKeys.audience, audience);
    await storage.settings.set(RuntimeKeys.maxTtlMs, String(config.tokens.maxTtl));
    await storage.settings.set(RuntimeKeys.defaultTtlMs, String(config.tokens.defaultTtl));
    await storage.settings.set(RuntimeKeys.publicUrl, config.publicUrl);

    try {
      gateway.#http = await new Promise<ServerType>((resolve, reject) => {
        const server = serve({ fetch: assembly.app.fetch, hostname: config.listen.host, port: config.listen.port }, () => resolve(server));
        server.once('error', reject);
      });
    } catch (error) {
      // The port could not be opened (e.g. in use): stop the children already started, or they
      // would keep this process alive with nothing listening.
      await Promise.all([...connectors.values()].map((c) => c.stop().catch(() => undefined)));
      await audit.close().catch(() => undefined);
      await storage.close().catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new ListenError(
          `cannot listen on ${config.listen.host}:${config.listen.port}: ${code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : 'the address is not available on this machine'} (${code})`,
          { cause: error },
        );
      }
      throw error;
    }
    gateway.port = (gateway.#http.address() as AddressInfo).port;
    await storage.settings.set(RuntimeKeys.pid, String(process.pid));
    await storage.settings.set(RuntimeKeys.startedAt, String(Date.now()));
    sessions.startSweeper();
    audit.startCheckpointTimer();
    // Leases a crashed run left behind are revoked now (in the background: a database that is
    // down must not keep the gateway from starting), then expired leftovers every minute.
    broker.startJanitor();
    gateway.#housekeeping = setInterval(() => {
      const now = Date.now();
      void assembly.oauthStore.purgeExpired(now).catch((error: unknown) => log.warn({ err: error }, 'purging expired OAuth artifacts failed'));
      void storage.revocations.purgeExpired(now).catch((error: unknown) => log.warn({ err: error }, 'purging expired revocations failed'));
    }, 10 * 60_000);
    gateway.#housekeeping.unref();
    assembly.policies?.watch();
    void audit.append(AuditKind.GatewayStart, { version: VERSION, publicUrl: config.publicUrl, servers: [...connectors.keys()] }, { durable: false });
    log.info({ url: config.publicUrl, port: gateway.port, servers: [...connectors.keys()] }, 'gatehouse ready');
    return gateway;
  }

  /** Stops taking requests, drains in-flight calls, then stops upstream children and storage. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { router, sessions, connectors, audit, storage, log, broker, policies } = this.assembly;
    log.info('shutting down: draining in-flight calls');
    router.draining = true;
    policies?.close();
    const http = this.#http;
    (http as { closeIdleConnections?: () => void } | undefined)?.closeIdleConnections?.();
    const closed = http ? new Promise<void>((resolve) => http.close(() => resolve())) : Promise.resolve();
    if (this.#housekeeping) clearInterval(this.#housekeeping);
    const deadline = Date.now() + (this.options.drainTimeoutMs ?? 30_000);
    // First the calls inside the pipeline, then their responses on the wire: only then may
    // sessions close without answering an in-flight request with "Session closed".
    const drained = (await router.drain(deadline - Date.now())) && (await sessions.drain(Math.max(0, deadline - Date.now())));
    if (!drained) log.warn({ inflight: router.inflight }, 'drain timeout: cancelling remaining calls');
    // Every brokered credential ends with the process (the database roles are dropped), once
    // no call is using one any more.
    await broker
      .close('shutdown')
      .catch((error: unknown) => log.error({ err: error }, 'revoking leases at shutdown failed; the janitor will finish on the next start'));
    await sessions.closeAll();
    (http as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
    await closed;
    await Promise.all([...connectors.values()].map((c) => c.stop()));
    router.flushAudit();
    await audit.append(AuditKind.GatewayStop, { version: VERSION }, { durable: true }).catch(() => undefined);
    await audit.close();
    await storage.close();
    log.info('stopped');
  }
}

/** The gateway could not open its port; the message says why, for the operator. */
export class ListenError extends Error {}

function derivePublicUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
