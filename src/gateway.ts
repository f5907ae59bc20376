import { createServer, type AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Hono } from 'hono';
import { approvalServiceFor, type ApprovalService } from './approvals/index.js';
import { AuditKind, AuditLog } from './audit/index.js';
import { approvalPages, noConsoleAuth, type ConsoleAuth } from './console/index.js';
import { interpolate, MissingVariableError, type LoadedConfig } from './config/index.js';
import type { Connector } from './connectors/index.js';
import { McpUpstreamConnector, type UpstreamHooks } from './connectors/mcp-upstream/index.js';
import { ConfigError } from './errors/index.js';
import { createHttpApp } from './http/index.js';
import { createLogger, secrets, type Logger } from './log/index.js';
import { CatalogView } from './mcp/catalog-view.js';
import { mcpEndpoint } from './mcp/front-door.js';
import { Naming } from './mcp/naming.js';
import { Router } from './mcp/router.js';
import { SessionRegistry } from './mcp/session.js';
import {
  auditIntentStage,
  approveStage,
  auditOutcomeStage,
  authorizeStage,
  composePipeline,
  executeStage,
  orderStages,
  rateLimitStage,
  validateStage,
  type Executor,
  type Stage,
} from './pipeline/index.js';
import { AccessListAuthorizer, formatProblem, InputSchemaValidator, PolicyLoadError, PolicyStore, type Authorizer, type PolicyEvent, type PolicyStatus } from './policy/index.js';
import { CallLimits, MemoryRateLimitStore, type RateLimitStore } from './ratelimit/index.js';
import { openStorage, type Storage } from './storage/index.js';
import { AccessTokenVerifier, KeyRing } from './tokens/index.js';
import { VERSION } from './version.js';

/** Settings keys the gateway publishes for CLI processes sharing the data dir. */
export const RuntimeKeys = {
  publicUrl: 'runtime.public_url',
  issuer: 'tokens.issuer',
  audience: 'tokens.audience',
  maxTtlMs: 'tokens.max_ttl_ms',
  defaultTtlMs: 'tokens.default_ttl_ms',
  pid: 'runtime.pid',
  startedAt: 'runtime.started_at',
} as const;

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
  /** Who is signed in to the console (issue 3's session); nobody without it. */
  consoleAuth?: ConsoleAuth;
  /** Where rate-limit counters live (in memory by default; Redis/PostgreSQL for clusters). */
  rateLimitStore?: RateLimitStore;
}

/** The issuer and audience tokens are bound to. */
export function tokenIdentity(publicUrl: string): { issuer: string; audience: string } {
  return { issuer: publicUrl, audience: `${publicUrl}/mcp` };
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
  /** The Cedar policies in force, when `policies:` is set. */
  policies: PolicyStore | undefined;
  approvals: ApprovalService;
}

/** Connectors for the configured `servers:` (also used by `gatehouse policy explain` to read a live catalog). */
export function upstreamConnectors(config: LoadedConfig, env: NodeJS.ProcessEnv, log: Logger, hooks: UpstreamHooks): Map<string, Connector> {
  const resolveValue = (value: string, where: string): string => {
    try {
      return interpolate(value, { env, onSecret: (s) => secrets.register(s) });
    } catch (error) {
      if (error instanceof MissingVariableError) throw new ConfigError(`${where}: ${error.message}`, [{ path: where, message: error.message }]);
      throw error;
    }
  };
  const connectors = new Map<string, Connector>();
  for (const [name, server] of Object.entries(config.servers)) {
    connectors.set(
      name,
      new McpUpstreamConnector(
        name,
        server,
        {
          log: log.child({ server: name }),
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

/**
 * The composition root: storage, keys, audit, connectors, pipeline, sessions and the HTTP
 * front door, wired in one place. Nothing listens yet.
 */
export async function assembleGateway(config: LoadedConfig, options: GatewayOptions = {}): Promise<Assembly> {
  const log = options.log ?? createLogger({ level: config.log.level });
  const env = options.env ?? process.env;
  const storage = options.storage ?? openStorage(config.dataDir, { threadedAudit: true });
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
  const connectors = options.connectors ?? upstreamConnectors(config, env, log, hooks);

  const policies = config.policies ? openPolicies(config, log, audit) : undefined;
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
  const stages: Stage[] = [
    auditOutcomeStage(audit),
    validateStage(new InputSchemaValidator(), authorizer),
    authorizeStage(authorizer, { approvals }),
    ...(config.rateLimits.enabled ? [rateLimitStage(new CallLimits(config.rateLimits, options.rateLimitStore ?? new MemoryRateLimitStore()))] : []),
    approveStage(approvals, log),
    auditIntentStage(audit),
    executeStage(executorFor),
  ];
  const pipeline = composePipeline(orderStages(stages));
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
    audit,
    log,
    forwardRoots: (server) => config.servers[server]?.forwardRoots === true,
    isolation: (server) => config.servers[server]?.isolation,
  });

  const { issuer, audience } = tokenIdentity(config.publicUrl);
  const verifier = new AccessTokenVerifier(tokenKeys, { issuer, audience, maxTtlMs: config.tokens.maxTtl });
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
    return { ready: storageOk && audit.healthy && Object.values(upstreams).every((u) => u.ready), storage: storageOk, audit: audit.healthy, upstreams, policies: policyStatus };
  };
  const app = createHttpApp({
    publicUrl: config.publicUrl,
    allowedOrigins: config.cors.allowedOrigins,
    maxRequestBody: config.limits.maxRequestBody,
    verify: (token) => verifier.verify(token),
    onAuthFailure: (error, c) => {
      void audit.append(AuditKind.AuthFailure, { actor: { sub: '-', ip: clientIp(c) }, method: c.req.method, outcome: { status: 'denied', code: error.code } }, { durable: false });
    },
    resourceMetadata: () => ({ resource: audience, bearer_methods_supported: ['header'], resource_name: 'Gatehouse', scopes_supported: ['mcp'] }),
    mcp: mcpEndpoint({ router, sessions, audit, log, clientIp }),
    health: () => ({ alive: true }),
    readiness,
    onError: (error) => log.error({ err: error }, 'unhandled HTTP error'),
    mount: (app) => {
      app.route('/console', approvalPages({ service: approvals, auth: options.consoleAuth ?? noConsoleAuth, publicUrl: config.publicUrl, mfaMaxAgeMs: config.approvals.consoleMfaMaxAge }));
    },
  });
  return { config, app, storage, audit, tokenKeys, verifier, connectors, router, sessions, log, policies, approvals };
}

/** Loads the policy folder (a gateway does not start on policies it cannot load) and audits every (re)load. */
function openPolicies(config: LoadedConfig, log: Logger, audit: AuditLog): PolicyStore {
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
      config = { ...config, listen: { ...config.listen, port }, publicUrl: config.publicUrlDerived ? derivePublicUrl(config.listen.host, port) : config.publicUrl };
    }
    const assembly = await assembleGateway(config, options);
    const { storage, connectors, audit, log, sessions } = assembly;
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

    gateway.#http = await new Promise<ServerType>((resolve, reject) => {
      const server = serve({ fetch: assembly.app.fetch, hostname: config.listen.host, port: config.listen.port }, () => resolve(server));
      server.once('error', reject);
    });
    gateway.port = (gateway.#http.address() as AddressInfo).port;
    await storage.settings.set(RuntimeKeys.pid, String(process.pid));
    await storage.settings.set(RuntimeKeys.startedAt, String(Date.now()));
    sessions.startSweeper();
    audit.startCheckpointTimer();
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
    const { router, sessions, connectors, audit, storage, log, policies } = this.assembly;
    log.info('shutting down: draining in-flight calls');
    policies?.close();
    const http = this.#http;
    const closed = http ? new Promise<void>((resolve) => http.close(() => resolve())) : Promise.resolve();
    const drained = await router.drain(this.options.drainTimeoutMs ?? 30_000);
    if (!drained) log.warn({ inflight: router.inflight }, 'drain timeout: cancelling remaining calls');
    await sessions.closeAll();
    (http as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
    await closed;
    await Promise.all([...connectors.values()].map((c) => c.stop()));
    await audit.append(AuditKind.GatewayStop, { version: VERSION }, { durable: true }).catch(() => undefined);
    await audit.close();
    await storage.close();
    log.info('stopped');
  }
}

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

function clientIp(c: Parameters<typeof getConnInfo>[0]): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}
