import type { LeaseRecord, LeaseStore } from '../ports/index.js';
import type { PostgresDatabase } from './database.js';
import { type LeaseRow as Row, fromRow } from '../rows/lease-row.js';

export class PostgresLeaseStore implements LeaseStore {
  constructor(private readonly db: PostgresDatabase) {}

  async insert(r: LeaseRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO broker_leases (id, connector, actor, purpose, resource, issued_at, expires_at, state, revoked_at, revoke_reason, owner_pid, owner_instance)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [r.id, r.connector, r.actor, r.purpose, r.resource, r.issuedAt, r.expiresAt, r.state, r.revokedAt, r.revokeReason, r.ownerPid, r.ownerInstance],
    );
  }

  async markRevoked(id: string, at: number, reason: string): Promise<void> {
    await this.db.query("UPDATE broker_leases SET state = 'revoked', revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND state <> 'revoked'", [
      at,
      reason,
      id,
    ]);
  }

  async open(): Promise<LeaseRecord[]> {
    return (await this.db.rows<Row>('SELECT * FROM broker_leases WHERE state <> \'revoked\' ORDER BY issued_at, id COLLATE "C"')).map(fromRow);
  }

  async get(id: string): Promise<LeaseRecord | undefined> {
    const row = await this.db.row<Row>('SELECT * FROM broker_leases WHERE id = $1', [id]);
    return row ? fromRow(row) : undefined;
  }
}
