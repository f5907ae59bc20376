import type { OAuthStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';
import { type ArtifactReadRow, artifactFromRow, artifactValues, hashId } from '../rows/oauth-artifact-row.js';

interface QueuedWrite {
  run(): unknown;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * oidc-provider artifacts in SQLite. The payload is stored without its `jti` (the id), which is
 * put back from the caller's id on read: knowing the row is not knowing the token.
 *
 * Writes are group-committed: every write queued in the same turn of the event loop commits
 * in one transaction (one fsync, one acquisition of the write lock the audit writer also
 * wants), and each caller's promise resolves only after that commit. A refresh that rotates
 * its token therefore never answers before the rotation is durable, at a fraction of the cost.
 */
export class SqliteOAuthStore implements OAuthStore {
  #queue: QueuedWrite[] = [];
  #scheduled = false;

  constructor(private readonly sql: SqliteDatabase) {}

  #write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    });
  }

  #flush(attempt = 0): void {
    // Another connection (the audit writer thread, a CLI command) may hold the write lock.
    // SQLite's busy handler would sleep on this thread, stalling every request; instead try
    // without waiting and, if the lock is taken, come back in a millisecond (bounded).
    if (attempt < 2000 && !this.#tryBegin()) {
      setTimeout(() => this.#flush(attempt + 1), 1);
      return;
    }
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    const results: unknown[] = [];
    try {
      if (!this.sql.db.isTransaction) this.sql.db.exec('BEGIN IMMEDIATE');
      try {
        for (const write of batch) results.push(write.run());
        this.sql.db.exec('COMMIT');
      } catch (error) {
        if (this.sql.db.isTransaction) this.sql.db.exec('ROLLBACK');
        throw error;
      }
    } catch (_error) {
      // One bad write must not sink the others: retry them one by one.
      for (const write of batch) {
        try {
          write.resolve(this.sql.transaction(() => write.run()));
        } catch (single) {
          write.reject(single as Error);
        }
      }
      return;
    }
    batch.forEach((write, i) => {
      write.resolve(results[i]);
    });
  }

  /** BEGIN IMMEDIATE without waiting for the lock; false if another connection holds it. */
  #tryBegin(): boolean {
    const db = this.sql.db;
    db.exec('PRAGMA busy_timeout = 0');
    try {
      db.exec('BEGIN IMMEDIATE');
      return true;
    } catch (error) {
      if (/SQLITE_BUSY|database is locked/i.test((error as Error).message)) return false;
      throw error;
    } finally {
      db.exec(`PRAGMA busy_timeout = ${this.sql.busyTimeoutMs}`);
    }
  }

  async upsert(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null): Promise<void> {
    await this.#write(() =>
      this.sql
        .statement(
          `INSERT INTO oauth_artifacts (model, id_hash, payload, grant_id, account_id, client_id, uid, user_code, consumed_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
         ON CONFLICT (model, id_hash) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, account_id = excluded.account_id,
           client_id = excluded.client_id, uid = excluded.uid, user_code = excluded.user_code, expires_at = excluded.expires_at`,
        )
        .run(...artifactValues(model, id, payload, expiresAt)),
    );
  }

  #read(row: ArtifactReadRow | undefined, id: string | undefined): Record<string, unknown> | undefined {
    return artifactFromRow(row, id, Date.now());
  }

  async find(model: string, id: string): Promise<Record<string, unknown> | undefined> {
    const row = this.sql.statement('SELECT payload, consumed_at, expires_at FROM oauth_artifacts WHERE model = ? AND id_hash = ?').get(model, hashId(id)) as
      | ArtifactReadRow
      | undefined;
    return this.#read(row, id);
  }

  async findByUid(model: string, uid: string): Promise<Record<string, unknown> | undefined> {
    // Sessions are looked up by uid; the session id itself (the cookie value) is not recoverable
    // here, so the model's own jti is kept for this one lookup path.
    const row = this.sql.statement('SELECT payload, consumed_at, expires_at FROM oauth_artifacts WHERE model = ? AND uid = ?').get(model, uid) as
      | ArtifactReadRow
      | undefined;
    return this.#read(row, undefined);
  }

  async findByUserCode(model: string, userCode: string): Promise<Record<string, unknown> | undefined> {
    const row = this.sql.statement('SELECT payload, consumed_at, expires_at FROM oauth_artifacts WHERE model = ? AND user_code = ?').get(model, userCode) as
      | ArtifactReadRow
      | undefined;
    return this.#read(row, undefined);
  }

  consume(model: string, id: string): Promise<{ first: boolean; grantId: string | null }> {
    // Compare-and-set inside the batch transaction: of two racing consumers, one changes the row.
    return this.#write(() => {
      const hash = hashId(id);
      const changed = Number(
        this.sql.statement('UPDATE oauth_artifacts SET consumed_at = ? WHERE model = ? AND id_hash = ? AND consumed_at IS NULL').run(Date.now(), model, hash)
          .changes,
      );
      const row = this.sql.statement('SELECT grant_id FROM oauth_artifacts WHERE model = ? AND id_hash = ?').get(model, hash) as
        | { grant_id: string | null }
        | undefined;
      return { first: changed === 1, grantId: row?.grant_id ?? null };
    });
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.#write(() => this.sql.statement('DELETE FROM oauth_artifacts WHERE model = ? AND id_hash = ?').run(model, hashId(id)));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#write(() => this.sql.statement('DELETE FROM oauth_artifacts WHERE grant_id = ?').run(grantId));
  }

  deleteByAccount(accountId: string): Promise<number> {
    return this.#write(() => Number(this.sql.statement("DELETE FROM oauth_artifacts WHERE account_id = ? AND model <> 'Client'").run(accountId).changes));
  }

  deleteByClient(clientId: string): Promise<number> {
    return this.#write(() => Number(this.sql.statement("DELETE FROM oauth_artifacts WHERE client_id = ? AND model <> 'Client'").run(clientId).changes));
  }

  async grantIds(accountId: string, clientId?: string): Promise<string[]> {
    // Grant ids are not bearer values (nothing can be redeemed with one), so they are kept.
    const rows = (
      clientId === undefined
        ? this.sql.statement("SELECT grant_id FROM oauth_artifacts WHERE model = 'Grant' AND account_id = ?").all(accountId)
        : this.sql.statement("SELECT grant_id FROM oauth_artifacts WHERE model = 'Grant' AND account_id = ? AND client_id = ?").all(accountId, clientId)
    ) as { grant_id: string }[];
    return rows.map((r) => r.grant_id);
  }

  purgeExpired(now: number): Promise<number> {
    return this.#write(() => Number(this.sql.statement('DELETE FROM oauth_artifacts WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now).changes));
  }
}
