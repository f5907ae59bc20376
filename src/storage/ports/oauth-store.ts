/**
 * What the authorization server (oidc-provider) persists: sessions, interactions, grants,
 * authorization codes, refresh tokens, registered clients. One row per artifact, keyed by
 * model and id. Implementations never keep the id itself where it is a bearer value (codes,
 * refresh tokens, session ids): a copy of the database must not be a bag of usable tokens.
 */
export interface OAuthArtifact {
  payload: Record<string, unknown>;
  /** Epoch ms after which the artifact is gone; null = no expiry. */
  expiresAt: number | null;
}

export interface OAuthStore {
  upsert(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null): Promise<void>;
  find(model: string, id: string): Promise<Record<string, unknown> | undefined>;
  findByUid(model: string, uid: string): Promise<Record<string, unknown> | undefined>;
  findByUserCode(model: string, userCode: string): Promise<Record<string, unknown> | undefined>;
  /**
   * Marks an artifact used (codes, rotated refresh tokens), atomically: `first` is true for
   * exactly one caller, however many race. `grantId` names the family for reuse handling.
   */
  consume(model: string, id: string): Promise<{ first: boolean; grantId: string | null }>;
  destroy(model: string, id: string): Promise<void>;
  /** Removes every artifact issued under a grant: the refresh-token family, codes, the grant. */
  revokeByGrantId(grantId: string): Promise<void>;
  /** Removes every artifact of a user (sessions, grants, codes, refresh tokens). Returns the count. */
  deleteByAccount(accountId: string): Promise<number>;
  /** Removes every artifact issued to a client, for all users (not the client registration). */
  deleteByClient(clientId: string): Promise<number>;
  /** Grant ids of a user's grants, optionally only those for one client. */
  grantIds(accountId: string, clientId?: string): Promise<string[]>;
  purgeExpired(now: number): Promise<number>;
}
