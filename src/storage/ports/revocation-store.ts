/**
 * What a revocation targets:
 * - `token`: one access token by `jti`;
 * - `user`: every token a user holds that was issued at or before the revocation;
 * - `client`: every token issued to a client at or before the revocation, for all users;
 * - `grant`: every token issued under one authorization (one user, one client);
 * - `session`: one MCP session, and the authorization that opened it.
 */
export type RevocationKind = 'token' | 'user' | 'client' | 'grant' | 'session';

export interface RevocationEntry {
  id: number;
  kind: RevocationKind;
  value: string;
  revokedAt: number;
  /** After this instant the entry cannot match a live token any more and may be dropped. */
  expiresAt: number;
  /** Who revoked: `os:<user>` for the CLI, the user's name for the connected-clients page. */
  revokedBy: string;
  reason: string | null;
}

export type NewRevocation = Omit<RevocationEntry, 'id'>;

export interface RevocationStore {
  add(entry: NewRevocation): Promise<RevocationEntry>;
  /** Entries with `id > afterId` that have not expired at `now`, in id order. */
  listSince(afterId: number, now: number): Promise<RevocationEntry[]>;
  purgeExpired(now: number): Promise<number>;
}
