import type { LeaseRecord, LeaseState, LeaseStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';

interface Row {
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

const fromRow = (r: Row): LeaseRecord => ({
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
