/**
 * The routing data of MCP sessions of the session era (`Mcp-Session-Id`, protocol revisions
 * 2025-03-26 to 2025-11-25), shared so that any node can serve any request of a session: who
 * the session is bound to and what was negotiated at `initialize`. Nothing here grants access —
 * every request still authenticates with its own token, and the front door serves the session
 * only when the token's user and client are the ones recorded here.
 *
 * What cannot move between processes (an in-flight call's event stream, the GET stream and its
 * resource subscriptions, per-session upstream processes) is not stored: it stays with the
 * node that holds it.
 */
export interface McpSessionRecord {
  /** The `Mcp-Session-Id` (256 random bits, base64url). */
  id: string;
  /** The user the session is bound to. */
  sub: string;
  /** The OAuth client the session is bound to (undefined for tokens without one). */
  clientId: string | undefined;
  /** The token and authorization that opened the session (revoking either ends it). */
  openedJti: string;
  openedGrantId: string | undefined;
  /** The protocol revision agreed at initialize. */
  protocolVersion: string;
  /** The client's `initialize` capabilities and clientInfo, as sent (JSON values). */
  clientCapabilities: Record<string, unknown>;
  clientInfo: Record<string, unknown>;
  createdAt: number;
  /** Last time any node recorded a request of the session (recorded coarsely, see `touch`). */
  lastUsedAt: number;
  /** The session ends when unused until then; each recorded use moves it on. */
  expiresAt: number;
  /** The minimum level of log messages the client asked for (`logging/setLevel`); undefined: all. */
  logLevel: string | undefined;
  /** Set when the session was ended (DELETE, revocation, eviction): it is never served again. */
  terminatedAt: number | undefined;
}

export type NewMcpSession = Omit<McpSessionRecord, 'terminatedAt' | 'logLevel'>;

/** Which sessions a revocation ends (any one field). */
export type McpSessionMatch = { sub: string } | { clientId: string } | { grantId: string } | { jti: string } | { id: string };

export interface McpSessionStore {
  /** Records a new session. Ids are unique: recording an id twice fails. */
  create(session: NewMcpSession): Promise<void>;
  /** The session if it exists, was not terminated and has not expired at `now`; else undefined. */
  live(id: string, now: number): Promise<McpSessionRecord | undefined>;
  /** Records a use at `now`, moving the expiry to `expiresAt`; false if the session is no longer live. */
  touch(id: string, now: number, expiresAt: number): Promise<boolean>;
  /** Records the log level the client asked for; false if the session is no longer live at `now`. */
  setLogLevel(id: string, level: string, now: number): Promise<boolean>;
  /**
   * Ends for good (later lookups find nothing live) the sessions that match and were created at
   * or before `at` — a revocation covers what existed when it was made, also when a node that
   * starts later applies it again; returns how many were not yet terminated.
   */
  terminate(match: McpSessionMatch, at: number): Promise<number>;
  /** Of `ids`, those that are live at `now` (a node checks the sessions it holds). */
  liveAmong(ids: readonly string[], now: number): Promise<Set<string>>;
  /** Forgets sessions that expired or were terminated before `before`; returns how many. */
  purge(before: number): Promise<number>;
}
