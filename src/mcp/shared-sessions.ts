import { type JSONRPCMessage, LoggingLevelSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log/index.js';
import type { McpSessionRecord, McpSessionStore } from '../storage/ports/mcp-session-store.js';
import type { Principal } from '../tokens/index.js';
import type { McpSession, SessionRegistry } from './session.js';
import type { EventStream, ReplyChannel } from './streamable-http-transport.js';

/** Why a session could not be served from the store. */
export type SharedSessionRefusal = 'not_found' | 'too_many_sessions' | 'store_unavailable';

export interface SharedSessionsOptions {
  store: McpSessionStore;
  sessions: SessionRegistry;
  /** A session unused this long ends (`limits.sessionIdleTimeout`), on every node. */
  idleTimeoutMs: number;
  log: Logger;
  /**
   * Builds the local half of a stored session on this node (SDK server and transport for the
   * stored id, registered, not yet initialized); the caller's `createSession` without a new id.
   */
  recreate(record: McpSessionRecord): Promise<McpSession>;
  now?: () => number;
}

/** The request id of the initialize replayed into a recreated session (never sent to a client). */
const REPLAY_ID = 'gatehouse-session-restore';
/** Rows of sessions dead for longer than the idle timeout are deleted at most this often (by each node). */
const PURGE_EVERY_MS = 60_000;

/**
 * Session-era MCP sessions shared through the store, so any node serves any request of a
 * session: the node that opens a session records its routing data (who it is bound to, what
 * was negotiated); a node that receives a request for a session it does not hold looks it up
 * and, when it is live and bound to the request's user and client, recreates it locally.
 *
 * The store is the truth on every request: a session terminated anywhere (DELETE, eviction,
 * revocation) or expired is refused everywhere on its next request, and a node's local copy of
 * it is closed then. The session id grants nothing by itself: the request's token has already
 * authenticated, and its user and client must be the ones the session was opened by.
 */
export class SharedSessions {
  readonly #options: SharedSessionsOptions;
  readonly #now: () => number;
  /** Recreations under way, so concurrent requests for one session build it once. */
  readonly #restoring = new Map<string, Promise<McpSession | SharedSessionRefusal>>();
  /** When this node last recorded a use of each session it holds (uses are recorded coarsely). */
  readonly #recorded = new Map<string, number>();
  #purgedAt = 0;

  constructor(options: SharedSessionsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Records a session this node just opened, before its id goes to the client. */
  async opened(session: McpSession, capabilities: unknown, clientInfo: unknown): Promise<void> {
    const now = this.#now();
    await this.#options.store.create({
      id: session.id,
      sub: session.sub,
      clientId: session.clientId,
      openedJti: session.openedWith?.jti ?? '',
      openedGrantId: session.openedWith?.grantId,
      protocolVersion: session.protocolVersion ?? '',
      clientCapabilities: asObject(capabilities),
      clientInfo: asObject(clientInfo),
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + this.#options.idleTimeoutMs,
    });
    this.#recorded.set(session.id, now);
    this.#keepLogLevel(session);
  }

  /** `logging/setLevel` on this node reaches the store before it is answered, so every node filters alike. */
  #keepLogLevel(session: McpSession): void {
    session.onLogLevel = async (level) => {
      if (!(await this.#options.store.setLogLevel(session.id, level, this.#now()))) {
        this.#options.log.warn({ session: session.id }, 'log level not kept: the session is no longer live');
      }
    };
  }

  /**
   * The session `id` for a request of `principal`, held here or recreated from the store.
   * Unknown, terminated, expired and foreign sessions are all `not_found`: one answer, so the
   * response says nothing about whether another user's session exists.
   */
  async resolve(id: string, principal: Principal): Promise<McpSession | SharedSessionRefusal> {
    let record: McpSessionRecord | undefined;
    try {
      record = await this.#options.store.live(id, this.#now());
    } catch (error) {
      this.#options.log.error({ err: error }, 'MCP session lookup failed');
      return 'store_unavailable';
    }
    const held = this.#options.sessions.get(id);
    if (!record) {
      // Ended elsewhere (or expired): this node's copy goes too.
      if (held && !held.stateless) void this.#options.sessions.close(held, 'terminated');
      return 'not_found';
    }
    if (record.sub !== principal.sub || record.clientId !== principal.clientId) return 'not_found';
    if (held) {
      if (held.stateless || held.sub !== record.sub || held.clientId !== record.clientId) return 'not_found';
      this.#used(held.id);
      return held;
    }
    let restoring = this.#restoring.get(id);
    if (!restoring) {
      restoring = this.#restore(record).finally(() => this.#restoring.delete(id));
      this.#restoring.set(id, restoring);
    }
    const restored = await restoring;
    if (typeof restored !== 'string') this.#used(restored.id);
    return restored;
  }

  /** Ends a session for good, everywhere (DELETE); resolves once the store has recorded it. */
  async terminate(id: string): Promise<void> {
    this.#recorded.delete(id);
    await this.#options.store.terminate({ id }, this.#now());
  }

  /** A session closed on this node: eviction ends it everywhere; other reasons only drop the local copy. */
  closedLocally(session: McpSession, reason: string): void {
    this.#recorded.delete(session.id);
    if (session.stateless || reason !== 'evicted') return;
    void this.#options.store
      .terminate({ id: session.id }, this.#now())
      .catch((error: unknown) => this.#options.log.error({ err: error, session: session.id }, 'could not record an evicted MCP session as ended'));
  }

  /**
   * Checks the sessions this node holds against the store (the registry runs it every few
   * seconds), so a local copy of a session ended on another node — and a GET stream open on it
   * here — does not outlive it even when no request for it arrives; and forgets dead rows.
   */
  async reconcile(): Promise<void> {
    const held = [...this.#options.sessions.values()].filter((s) => !s.stateless && !s.closed);
    try {
      const now = this.#now();
      const live = await this.#options.store.liveAmong(
        held.map((s) => s.id),
        now,
      );
      for (const session of held) if (!live.has(session.id)) await this.#options.sessions.close(session, 'terminated');
      if (now - this.#purgedAt >= PURGE_EVERY_MS) {
        this.#purgedAt = now;
        await this.#options.store.purge(now - this.#options.idleTimeoutMs);
      }
    } catch (error) {
      this.#options.log.warn({ err: error }, 'MCP session reconciliation failed; retrying on the next round');
    }
  }

  /** Records a use in the store when the last one this node recorded is older than a tenth of the idle timeout. */
  #used(id: string): void {
    const now = this.#now();
    const last = this.#recorded.get(id);
    if (last !== undefined && now - last < this.#options.idleTimeoutMs / 10) return;
    this.#recorded.set(id, now);
    void this.#options.store
      .touch(id, now, now + this.#options.idleTimeoutMs)
      .catch((error: unknown) => this.#options.log.warn({ err: error, session: id }, 'could not record an MCP session use'));
  }

  async #restore(record: McpSessionRecord): Promise<McpSession | SharedSessionRefusal> {
    const { sessions, log } = this.#options;
    if (!(await sessions.makeRoom(record.sub))) return 'too_many_sessions';
    const session = await this.#options.recreate(record);
    // The SDK server learns the client's capabilities and info from initialize, as on the node
    // that opened the session: the stored initialize is replayed into it, its answer discarded.
    const initialize: JSONRPCMessage = {
      jsonrpc: '2.0',
      id: REPLAY_ID,
      method: 'initialize',
      params: { protocolVersion: record.protocolVersion, capabilities: record.clientCapabilities, clientInfo: record.clientInfo },
    };
    const answer = await new Promise<string | null>((resolve) => session.transport.acceptPost([initialize], false, discardingReply(resolve), undefined));
    if (answer === null || !(JSON.parse(answer) as { result?: unknown }).result) {
      log.error({ session: record.id }, 'a stored MCP session could not be recreated');
      await sessions.close(session, 'terminated');
      return 'not_found';
    }
    session.logLevel = LoggingLevelSchema.safeParse(record.logLevel).data;
    this.#keepLogLevel(session);
    log.debug({ session: record.id, sub: record.sub }, 'MCP session recreated from the store');
    return session;
  }
}

/** A reply channel that hands the body to `done` and sends nothing anywhere. */
function discardingReply(done: (body: string | null) => void): ReplyChannel {
  return {
    body: (_status, body) => done(body),
    openStream: (): EventStream => {
      const lines: string[] = [];
      return {
        write: (data) => {
          lines.push(data);
          return true;
        },
        comment: () => undefined,
        end: () => done(lines.at(-1) ?? null),
        closed: false,
        onClose: () => undefined,
      };
    },
  };
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
