import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { StreamableHttpTransport } from './streamable-http-transport.js';

/**
 * One MCP session. The state is deliberately small and explicit (identity binding, negotiated
 * version, subscriptions, timestamps), so it can move to shared storage when the stateless
 * 2026 protocol revision or a cluster needs any node to serve any request.
 */
let activityClock = 0;
/** How often the registry's periodic checks run (a session ended on another node closes here within this). */
const CHECK_EVERY_MS = 5000;

export class McpSession {
  readonly createdAt = Date.now();
  lastActiveAt = Date.now();
  /** Strictly increasing across sessions: orders eviction even within one millisecond. */
  recency = ++activityClock;
  /** JSON-RPC requests being handled right now (sessions with work in flight are not evicted). */
  inflight = 0;
  /** Resource subscriptions, per server: the URIs this session asked to be told about. */
  readonly subscriptions = new Map<string, Set<string>>();
  closed = false;

  constructor(
    readonly id: string,
    /** The user the session is bound to; requests with another user's token are refused. */
    readonly sub: string,
    /** The OAuth client the session is bound to. */
    readonly clientId: string | undefined,
    readonly ip: string | undefined,
    readonly server: Server,
    readonly transport: StreamableHttpTransport,
  ) {}

  /** Protocol version agreed at initialize. */
  protocolVersion: string | undefined;
  /** The token (and its authorization) that opened the session: revoking either closes it. */
  openedWith: { jti: string; grantId: string | undefined } | undefined;

  /** Minimum level of log messages the client asked for (logging/setLevel); all until it does. */
  logLevel: LoggingLevel | undefined;
  /** Keeps a new log level where other nodes serving the session read it (resolves once kept). */
  onLogLevel: ((level: LoggingLevel) => Promise<void>) | undefined;

  /** The client's self-reported name on a stateless (2026-07-28) session, which has no initialize. */
  declaredClientName: string | undefined;

  get clientName(): string | undefined {
    return this.server.getClientVersion()?.name ?? this.declaredClientName;
  }

  /** Sessions of the stateless revision are Gatehouse's own; their results carry the revision's fields. */
  get stateless(): boolean {
    return this.protocolVersion === '2026-07-28';
  }

  touch(): void {
    this.lastActiveAt = Date.now();
    this.recency = ++activityClock;
  }
}

export interface SessionRegistryOptions {
  maxPerUser: number;
  idleTimeoutMs: number;
  /** Called after a session is removed, whatever the reason. */
  /** `terminated`: the session was ended on another node (or expired in the shared store). */
  onClosed(session: McpSession, reason: 'deleted' | 'evicted' | 'idle' | 'shutdown' | 'transport' | 'revoked' | 'terminated'): void;
}

/** All live sessions, with the per-user cap (oldest idle evicted) and the idle sweep. */
export class SessionRegistry {
  readonly #sessions = new Map<string, McpSession>();
  readonly #byUser = new Map<string, Set<McpSession>>();
  #sweeper: NodeJS.Timeout | undefined;
  readonly #closeObservers: SessionRegistryOptions['onClosed'][] = [];
  readonly #checks: (() => Promise<void>)[] = [];
  #checker: NodeJS.Timeout | undefined;

  constructor(private readonly options: SessionRegistryOptions) {}

  /** Runs `check` every few seconds while the sweeper runs (from `startSweeper` to `closeAll`). */
  periodically(check: () => Promise<void>): void {
    this.#checks.push(check);
  }

  /** Runs the periodic checks once, now. */
  async runChecks(): Promise<void> {
    await Promise.allSettled(this.#checks.map((check) => check()));
  }

  /** Also tells `observer` about every session removed (after `onClosed`). */
  observeClose(observer: SessionRegistryOptions['onClosed']): void {
    this.#closeObservers.push(observer);
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(id: string): McpSession | undefined {
    return this.#sessions.get(id);
  }

  values(): IterableIterator<McpSession> {
    return this.#sessions.values();
  }

  forUser(sub: string): ReadonlySet<McpSession> {
    return this.#byUser.get(sub) ?? new Set();
  }

  /** Makes room for one more session of `sub`, evicting the least recently active idle ones. */
  async makeRoom(sub: string): Promise<boolean> {
    const mine = this.#byUser.get(sub);
    if (!mine || mine.size < this.options.maxPerUser) return true;
    const idle = [...mine].filter((s) => s.inflight === 0).sort((a, b) => a.recency - b.recency);
    let excess = mine.size - this.options.maxPerUser + 1;
    for (const session of idle) {
      if (excess-- <= 0) break;
      await this.close(session, 'evicted');
    }
    return (this.#byUser.get(sub)?.size ?? 0) < this.options.maxPerUser;
  }

  add(session: McpSession): void {
    this.#sessions.set(session.id, session);
    let mine = this.#byUser.get(session.sub);
    if (!mine) this.#byUser.set(session.sub, (mine = new Set()));
    mine.add(session);
  }

  async close(session: McpSession, reason: Parameters<SessionRegistryOptions['onClosed']>[1]): Promise<void> {
    if (session.closed) return;
    session.closed = true;
    this.#sessions.delete(session.id);
    const mine = this.#byUser.get(session.sub);
    mine?.delete(session);
    if (mine?.size === 0) this.#byUser.delete(session.sub);
    if (reason !== 'transport') {
      await session.transport.close().catch(() => undefined);
    }
    await session.server.close().catch(() => undefined);
    this.options.onClosed(session, reason);
    for (const observer of this.#closeObservers) observer(session, reason);
  }

  startSweeper(): void {
    const every = Math.min(60_000, Math.max(1000, Math.floor(this.options.idleTimeoutMs / 4)));
    this.#sweeper = setInterval(() => {
      const cutoff = Date.now() - this.options.idleTimeoutMs;
      for (const session of this.#sessions.values()) {
        if (session.inflight === 0 && session.lastActiveAt < cutoff) void this.close(session, 'idle');
      }
    }, every);
    this.#sweeper.unref();
    let running = false;
    this.#checker = setInterval(() => {
      if (running) return;
      running = true;
      void this.runChecks().finally(() => (running = false));
    }, CHECK_EVERY_MS);
    this.#checker.unref();
  }

  /** Resolves true once no session has a request waiting for its response, false after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const idle = Promise.all([...this.#sessions.values()].map((s) => s.transport.whenIdle())).then(() => true as const);
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async closeAll(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    if (this.#checker) clearInterval(this.#checker);
    await Promise.all([...this.#sessions.values()].map((s) => this.close(s, 'shutdown')));
  }
}
