import type { LeaseRecord, LeaseState, LeaseStore } from '../ports/index.js';
import type { PostgresDatabase } from './database.js';

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
