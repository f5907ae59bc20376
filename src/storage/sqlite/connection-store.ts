import type { ConnectionMetadata, ConnectionRecord, ConnectionStore, ConnectionTokens, PendingConnection } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';
import { SQLITE_CONNECTIONS, pendingValues, type SqliteConnectionRequestRow, type SqliteConnectionRow as Row, tokenValues } from '../rows/connection-row.js';

const { columns: COLUMNS, fromRow, metadataFromRow, fromRequestRow } = SQLITE_CONNECTIONS;

export class SqliteConnectionStore implements ConnectionStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async get(user: string, server: string): Promise<ConnectionRecord | undefined> {
    const row = this.sql.statement(`SELECT ${COLUMNS} FROM connections WHERE user = ? AND server = ?`).get(user, server) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async list(filter: { user?: string | undefined; server?: string | undefined } = {}): Promise<ConnectionMetadata[]> {
    const rows = this.sql
      .statement(`SELECT ${COLUMNS} FROM connections WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR server = ?2) ORDER BY user, server`)
      .all(filter.user ?? null, filter.server ?? null) as unknown as Row[];
    return rows.map(metadataFromRow);
  }

  async connect(record: { user: string; server: string; provider: string } & ConnectionTokens, now: number): Promise<{ generation: number }> {
    return this.sql.transaction(() => {
      const existing = this.sql.statement('SELECT generation FROM connections WHERE user = ? AND server = ?').get(record.user, record.server) as
        | { generation: number }
        | undefined;
      const generation = (existing?.generation ?? 0) + 1;
      this.sql
        .statement(
          `INSERT INTO connections (user, server, provider, refresh_sealed, access_sealed, access_expires_at, scopes, generation, created_at, refreshed_at, lock_owner, lock_until)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)
           ON CONFLICT (user, server) DO UPDATE SET provider = excluded.provider, scopes = excluded.scopes, refresh_sealed = excluded.refresh_sealed,
             access_sealed = excluded.access_sealed, access_expires_at = excluded.access_expires_at, generation = excluded.generation,
             created_at = excluded.created_at, refreshed_at = NULL, lock_owner = NULL, lock_until = NULL`,
        )
        .run(record.user, record.server, record.provider, ...tokenValues(record), generation, now);
      return { generation };
    });
  }

  async tryLock(user: string, server: string, owner: string, until: number, now: number): Promise<boolean> {
    // One statement: SQLite serialises writers, so exactly one process sees a change.
    const result = this.sql
      .statement(
        'UPDATE connections SET lock_owner = ?, lock_until = ? WHERE user = ? AND server = ? AND (lock_owner IS NULL OR lock_owner = ? OR lock_until <= ?)',
      )
      .run(owner, until, user, server, owner, now);
    return Number(result.changes) === 1;
  }

  async unlock(user: string, server: string, owner: string): Promise<void> {
    this.sql.statement('UPDATE connections SET lock_owner = NULL, lock_until = NULL WHERE user = ? AND server = ? AND lock_owner = ?').run(user, server, owner);
  }

  async commitRefresh(user: string, server: string, owner: string, tokens: ConnectionTokens, now: number): Promise<{ generation: number } | undefined> {
    return this.sql.transaction(() => {
      const row = this.sql.statement('SELECT generation, lock_owner FROM connections WHERE user = ? AND server = ?').get(user, server) as
        | { generation: number; lock_owner: string | null }
        | undefined;
      if (!row || row.lock_owner !== owner) return undefined;
      const generation = row.generation + 1;
      this.sql
        .statement(
          `UPDATE connections SET refresh_sealed = ?, access_sealed = ?, access_expires_at = ?, scopes = ?, generation = ?, refreshed_at = ?,
             lock_owner = NULL, lock_until = NULL WHERE user = ? AND server = ?`,
        )
        .run(...tokenValues(tokens), generation, now, user, server);
      return { generation };
    });
  }

  async expireAccessToken(user: string, server: string, generation: number): Promise<void> {
    this.sql
      .statement('UPDATE connections SET access_sealed = NULL, access_expires_at = NULL WHERE user = ? AND server = ? AND generation = ?')
      .run(user, server, generation);
  }

  async delete(user: string, server: string): Promise<ConnectionRecord | undefined> {
    return this.sql.transaction(() => {
      const row = this.sql.statement(`SELECT ${COLUMNS} FROM connections WHERE user = ? AND server = ?`).get(user, server) as Row | undefined;
      if (!row) return undefined;
      this.sql.statement('DELETE FROM connections WHERE user = ? AND server = ?').run(user, server);
      return fromRow(row);
    });
  }

  async deleteUser(user: string): Promise<ConnectionRecord[]> {
    return this.sql.transaction(() => {
      const rows = this.sql.statement(`SELECT ${COLUMNS} FROM connections WHERE user = ?`).all(user) as unknown as Row[];
      this.sql.statement('DELETE FROM connections WHERE user = ?').run(user);
      this.sql.statement('DELETE FROM connection_requests WHERE user = ?').run(user);
      return rows.map(fromRow);
    });
  }

  async putPending(pending: PendingConnection): Promise<void> {
    this.sql.transaction(() => {
      this.sql.statement('DELETE FROM connection_requests WHERE expires_at <= ?').run(pending.createdAt);
      this.sql
        .statement('INSERT INTO connection_requests (state, user, server, session_id, verifier_sealed, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(...pendingValues(pending));
    });
  }

  async takePending(state: string, now: number): Promise<PendingConnection | undefined> {
    return this.sql.transaction(() => {
      const row = this.sql.statement('SELECT * FROM connection_requests WHERE state = ?').get(state) as SqliteConnectionRequestRow | undefined;
      if (!row) return undefined;
      this.sql.statement('DELETE FROM connection_requests WHERE state = ?').run(state);
      if (row.expires_at <= now) return undefined;
      return fromRequestRow(row);
    });
  }
}
