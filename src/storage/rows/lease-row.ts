// The lease row as both stores keep it (same columns in SQLite and PostgreSQL) and its mapping to
// the port's record: one definition, so the two stores cannot drift apart.

import type { LeaseRecord, LeaseState } from '../ports/index.js';

export interface LeaseRow {
  id: string;
  connector: string;
  actor: string;
  purpose: string;
  resource: string;
  issued_at: number;
  expires_at: number;
  state: string;
  revoked_at: number | null;
  revoke_reason: string | null;
  owner_pid: number;
  owner_instance: string;
}

export const fromRow = (r: LeaseRow): LeaseRecord => ({
  id: r.id,
  connector: r.connector,
  actor: r.actor,
  purpose: r.purpose,
  resource: r.resource,
  issuedAt: r.issued_at,
  expiresAt: r.expires_at,
  state: r.state as LeaseState,
  revokedAt: r.revoked_at,
  revokeReason: r.revoke_reason,
  ownerPid: r.owner_pid,
  ownerInstance: r.owner_instance,
});
