import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { AuditKind } from './audit/index.js';
import type { LoadedConfig } from './config/index.js';
import { assembleGateway, type Assembly, type GatewayOptions } from './gateway.js';
import type { Logger } from './log/index.js';
import { RuntimeKeys, tokenIdentity } from './runtime.js';
import { VERSION } from './version.js';
import { freePort } from './util/free-port.js';

/** How often expired OAuth artifacts and revocations are purged. */
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

/**
 * A running gateway. `start` opens the port only once signing keys exist and the public URL is
 * published in the data dir, so a token issued right after is accepted.
 */
export class Gateway {
  #http: ServerType | undefined;
  #stopping: Promise<void> | undefined;
  #housekeeping: NodeJS.Timeout | undefined;
  port = 0;
  /** The metrics listener's port (0: metrics are off). */
  metricsPort = 0;

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
    const gateway = new Gateway(assembly, options);
    // Shared upstreams start before the port opens, so the first tools/list sees them; one that
    // fails keeps restarting with backoff and /readyz says so.
    await Promise.race([
      Promise.allSettled([...assembly.connectors.values()].map((c) => c.start())),
      new Promise((resolve) => setTimeout(resolve, options.upstreamStartWaitMs ?? 30_000).unref()),
    ]);
    await publishRuntime(assembly, config);
    gateway.#http = await listen(assembly, config);
    gateway.port = (gateway.#http.address() as AddressInfo).port;
    const metrics = config.metrics;
    if (assembly.metrics && metrics) {
      const { host, port } = metrics.listen;
      gateway.metricsPort = await assembly.metrics.server.listen(host, port).catch(async (error: unknown) => {
        await gateway.stop();
        throw new ListenError(`cannot open the metrics listener on ${host}:${port}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
          cause: error,
        });
      });
    }
    await gateway.#startBackground();
    return gateway;
  }

  /** Timers and watchers of a listening gateway, and the start record. */
  async #startBackground(): Promise<void> {
    const { storage, connectors, audit, log, sessions, broker, oauthStore, policies, config } = this.assembly;
    await storage.settings.set(RuntimeKeys.pid, String(process.pid));
    await storage.settings.set(RuntimeKeys.startedAt, String(Date.now()));
    sessions.startSweeper();
    audit.startCheckpointTimer();
    // Leases a crashed run left behind are revoked now (in the background: a database that is
    // down must not keep the gateway from starting), then expired leftovers every minute.
    broker.startJanitor();
    this.#housekeeping = setInterval(() => {
      const now = Date.now();
      void oauthStore.purgeExpired(now).catch((error: unknown) => log.warn({ err: error }, 'purging expired OAuth artifacts failed'));
      void storage.revocations.purgeExpired(now).catch((error: unknown) => log.warn({ err: error }, 'purging expired revocations failed'));
    }, HOUSEKEEPING_INTERVAL_MS);
    this.#housekeeping.unref();
    policies?.watch();
    void audit.append(AuditKind.GatewayStart, { version: VERSION, publicUrl: config.publicUrl, servers: [...connectors.keys()] }, { durable: false });
    log.info(
      { url: config.publicUrl, port: this.port, servers: [...connectors.keys()], ...(this.metricsPort ? { metricsPort: this.metricsPort } : {}) },
      'gatehouse ready',
    );
  }

  /** Stops taking requests, drains in-flight calls, then stops upstream children and storage. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { router, sessions, connectors, audit, storage, log, broker, policies, inputRequired } = this.assembly;
    log.info('shutting down: draining in-flight calls');
    router.draining = true;
    // Retries are refused from now on (503), so calls waiting for one would only hold up the drain.
    inputRequired.closeAll('Gatehouse is shutting down');
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
    await this.assembly.metrics?.server.close();
    await this.assembly.tracing?.shutdown();
    router.flushAudit();
    await audit.append(AuditKind.GatewayStop, { version: VERSION }, { durable: true }).catch(() => undefined);
    await audit.close();
    await storage.close();
    log.info('stopped');
  }
}

/** The gateway could not open its port; the message says why, for the operator. */
export class ListenError extends Error {}

/** What CLI processes sharing the data dir read: the token issuer and audience, TTLs, the public URL. */
async function publishRuntime(assembly: Assembly, config: LoadedConfig): Promise<void> {
  const { settings } = assembly.storage;
  const { issuer, audience } = tokenIdentity(config.publicUrl);
  await settings.set(RuntimeKeys.issuer, issuer);
  await settings.set(RuntimeKeys.audience, audience);
  await settings.set(RuntimeKeys.maxTtlMs, String(config.tokens.maxTtl));
  await settings.set(RuntimeKeys.defaultTtlMs, String(config.tokens.defaultTtl));
  await settings.set(RuntimeKeys.publicUrl, config.publicUrl);
}

async function listen(assembly: Assembly, config: LoadedConfig): Promise<ServerType> {
  const { connectors, audit, storage } = assembly;
  try {
    return await new Promise<ServerType>((resolve, reject) => {
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
      const why =
        code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : 'the address is not available on this machine';
      throw new ListenError(`cannot listen on ${config.listen.host}:${config.listen.port}: ${why} (${code})`, { cause: error });
    }
    throw error;
  }
}

function derivePublicUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
