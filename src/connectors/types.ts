import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import type { Executor } from '../pipeline/index.js';
import type { Catalog } from './mcp-upstream/catalog.js';

/** Who an operation runs for; connectors with per-user or per-session isolation key on it. */
export interface ConnectorOwner {
  sub: string;
  sessionId: string;
}

export interface ConnectorStatus {
  name: string;
  kind: string;
  ready: boolean;
  detail: Record<string, unknown>;
}

/**
 * A named backend behind the gateway: a proxied MCP server, or a built-in tool runtime
 * (PostgreSQL, HTTP API). The router sees only this interface.
 */
export interface Connector extends Executor {
  readonly name: string;
  readonly kind: string;
  /** What this connector offers `owner` (may start a per-user instance). */
  catalog(owner: ConnectorOwner): Promise<Catalog>;
  /** Server instructions for the initialize result, if any are known without starting anything. */
  instructions(): string | undefined;
  start(): Promise<void>;
  /** A session ended. `userHasOtherSessions` lets per-user instances outlive one of several sessions. */
  release(owner: ConnectorOwner, userHasOtherSessions: boolean): Promise<void>;
  stop(): Promise<void>;
  status(): ConnectorStatus;
  /**
   * A notification from the client of `sessionId` (roots changed) for the upstream instances
   * serving that session. Connectors without upstream sessions do not implement it.
   */
  notifySession?(sessionId: string, notification: Notification): void;
}
