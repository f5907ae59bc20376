import type { SealedSecret } from './vault-store.js';

/**
 * A user's connection to a downstream OAuth provider for one server (`servers.<name>.http.auth`
 * of type `userOAuth`). Tokens are only ever held sealed (envelope encryption under the vault's
 * key, bound to user and server); the store never sees a plaintext token.
 */
export interface ConnectionRecord {
  user: string;
  server: string;
  /** The provider as shown to the user (issuer or authorization endpoint origin). */
  provider: string;
  /** Scopes granted by the provider (as it reported them, else as requested). */
  scopes: string[];
  refreshToken: SealedSecret | null;
  /**
   * The current access token, sealed, so that other processes sharing the data dir use it
   * instead of refreshing again. Each process also keeps it in memory.
   */
  accessToken: SealedSecret | null;
  accessExpiresAt: number | null;
  /** Moves on every token change: a reader can tell a refresh happened while it waited. */
  generation: number;
  createdAt: number;
  refreshedAt: number | null;
}

/** What `connections list` and the `/connections` page show: never a token, sealed or not. */
export type ConnectionMetadata = Omit<ConnectionRecord, 'refreshToken' | 'accessToken'> & { hasRefreshToken: boolean };

export interface ConnectionTokens {
  refreshToken: SealedSecret | null;
  accessToken: SealedSecret | null;
  accessExpiresAt: number | null;
  scopes: string[];
}

/** An authorization request in flight (authorization code + PKCE), keyed by its `state`. */
export interface PendingConnection {
  state: string;
  user: string;
  server: string;
  /** The browser session that started it: a callback in another session is refused. */
  sessionId: string;
  /** The PKCE code verifier, sealed. */
  verifier: SealedSecret;
  createdAt: number;
  expiresAt: number;
}

export interface ConnectionStore {
  get(user: string, server: string): Promise<ConnectionRecord | undefined>;
  list(filter?: { user?: string | undefined; server?: string | undefined }): Promise<ConnectionMetadata[]>;
  /** Creates or replaces the connection (a new authorization), releasing any refresh lock. */
  connect(record: { user: string; server: string; provider: string } & ConnectionTokens, now: number): Promise<{ generation: number }>;
  /**
   * The cross-process refresh lock: true when `owner` now holds it (it was free or its holder's
   * lease ran out). Only the holder may commit a refresh.
   */
  tryLock(user: string, server: string, owner: string, until: number, now: number): Promise<boolean>;
  unlock(user: string, server: string, owner: string): Promise<void>;
  /**
   * Saves refreshed tokens and releases the lock in one transaction, only if `owner` still
   * holds it. The rotated refresh token is durable before the caller uses the new access token.
   */
  commitRefresh(user: string, server: string, owner: string, tokens: ConnectionTokens, now: number): Promise<{ generation: number } | undefined>;
  /** Marks the stored access token unusable (the API rejected it), if it is still `generation`'s. */
  expireAccessToken(user: string, server: string, generation: number): Promise<void>;
  delete(user: string, server: string): Promise<ConnectionRecord | undefined>;
  /** Removes and returns every connection of `user` (for revocation at the providers). */
  deleteUser(user: string): Promise<ConnectionRecord[]>;
  putPending(pending: PendingConnection): Promise<void>;
  /** Returns and removes the pending request (single use); undefined if unknown or expired. */
  takePending(state: string, now: number): Promise<PendingConnection | undefined>;
}
