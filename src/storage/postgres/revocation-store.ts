import type { NewRevocation, RevocationEntry, RevocationStore } from '../ports/index.js';
import type { PostgresDatabase } from './database.js';
import { lockKey } from './locks.js';
import { type RevocationRow as Row, fromRow } from '../rows/revocation-row.js';

const INSERT_LOCK = lockKey('revocations:insert');

export class PostgresRevocationStore implements RevocationStore {
  constructor(private readonly db: PostgresDatabase) {}

  /**
   * Readers page with `listSince(lastSeenId)`, so ids must become visible in id order: with
   * two concurrent inserts, id 8 committing before id 7 would let a reader move past 7 and
   * never load that revocation. Inserts therefore queue on a transaction lock that is released
   * only after commit, which makes id order and commit order the same (as SQLite's single
   * writer does).
   */
  async add(entry: NewRevocation): Promise<RevocationEntry> {
    return this.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [INSERT_LOCK]);
      const { rows } = await client.query<{ id: number }>(
        'INSERT INTO revocations (kind, value, revoked_at, expires_at, revoked_by, reason) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [entry.kind, entry.value, entry.revokedAt, entry.expiresAt, entry.revokedBy, entry.reason],
      );
      return { ...entry, id: (rows[0] as { id: number }).id };
    });
  }

  async listSince(afterId: number, now: number): Promise<RevocationEntry[]> {
    return (await this.db.rows<Row>('SELECT * FROM revocations WHERE id > $1 AND expires_at > $2 ORDER BY id', [afterId, now])).map(fromRow);
  }

  async purgeExpired(now: number): Promise<number> {
    return (await this.db.query('DELETE FROM revocations WHERE expires_at <= $1', [now])).rowCount ?? 0;
  }
}
