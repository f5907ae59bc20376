/** `active`: the credential may exist downstream (recorded before it is created); `revoked`: it is gone. */
export type LeaseState = 'active' | 'revoked';

/**
 * The durable trace of a brokered credential. No secret is ever stored: the record names what
 * was created downstream (`resource`, e.g. a PostgreSQL role) so it can be revoked after a crash.
 */
export interface LeaseRecord {
  id: string;
  connector: string;
  actor: string;
  purpose: string;
  resource: string;
  issuedAt: number;
  expiresAt: number;
  state: LeaseState;
  revokedAt: number | null;
  revokeReason: string | null;
  ownerPid: number;
  ownerInstance: string;
}

export interface LeaseStore {
  insert(record: LeaseRecord): Promise<void>;
  markRevoked(id: string, at: number, reason: string): Promise<void>;
  /** Leases not yet revoked, oldest first. */
  open(): Promise<LeaseRecord[]>;
  get(id: string): Promise<LeaseRecord | undefined>;
}
