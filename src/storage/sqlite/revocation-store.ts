import type { NewRevocation, RevocationEntry, RevocationStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';
import { type RevocationRow as Row, fromRow } from '../rows/revocation-row.js';

export class SqliteRevocationStore implements RevocationStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async add(entry: NewRevocation): Promise<RevocationEntry> {
    const result = this.sql
      .statement('INSERT INTO revocations (kind, value, revoked_at, expires_at, revoked_by, reason) VALUES (?, ?, ?, ?, ?, ?)')
      .run(entry.kind, entry.value, entry.revokedAt, entry.expiresAt, entry.revokedBy, entry.reason);
    return { ...entry, id: Number(result.lastInsertRowid) };
  }

  async listSince(afterId: number, now: number): Promise<RevocationEntry[]> {
    return (this.sql.statement('SELECT * FROM revocations WHERE id > ? AND expires_at > ? ORDER BY id').all(afterId, now) as unknown as Row[]).map(fromRow);
  }

  async purgeExpired(now: number): Promise<number> {
    return Number(this.sql.statement('DELETE FROM revocations WHERE expires_at <= ?').run(now).changes);
  }
}
