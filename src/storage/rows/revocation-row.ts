// The revocation row as both stores keep it (same columns in SQLite and PostgreSQL) and its mapping to
// the port's record: one definition, so the two stores cannot drift apart.

import type { RevocationEntry, RevocationKind } from '../ports/index.js';

export interface RevocationRow {
  id: number;
  kind: string;
  value: string;
  revoked_at: number;
  expires_at: number;
  revoked_by: string;
  reason: string | null;
}

export function fromRow(row: RevocationRow): RevocationEntry {
  return {
    id: row.id,
    kind: row.kind as RevocationKind,
    value: row.value,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
    revokedBy: row.revoked_by,
    reason: row.reason,
  };
}
