import type { LeaseRecord, LeaseStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';
import { type LeaseRow as Row, fromRow } from '../rows/lease-row.js';

export class SqliteLeaseStore implements LeaseStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async insert(r: LeaseRecord): Promise<void> {
    this.sql
      .statement(
        `INSERT INTO broker_leases (id, connector, actor, purpose, resource, issued_at, expires_at, state, revoked_at, revoke_reason, owner_pid, owner_instance)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.id, r.connector, r.actor, r.purpose, r.resource, r.issuedAt, r.expiresAt, r.state, r.revokedAt, r.revokeReason, r.ownerPid, r.ownerInstance);
  }

  async markRevoked(id: string, at: number, reason: string): Promise<void> {
    this.sql.statement("UPDATE broker_leases SET state = 'revoked', revoked_at = ?, revoke_reason = ? WHERE id = ? AND state <> 'revoked'").run(at, reason, id);
  }

  async open(): Promise<LeaseRecord[]> {
    return (this.sql.statement("SELECT * FROM broker_leases WHERE state <> 'revoked' ORDER BY issued_at, id").all() as unknown as Row[]).map(fromRow);
  }

  async get(id: string): Promise<LeaseRecord | undefined> {
    const row = this.sql.statement('SELECT * FROM broker_leases WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }
}
