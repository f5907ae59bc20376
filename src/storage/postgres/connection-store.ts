import type { ConnectionMetadata, ConnectionRecord, ConnectionStore, ConnectionTokens, PendingConnection } from '../ports/index.js';
import {
  POSTGRES_CONNECTIONS,
  pendingValues,
  type PostgresConnectionRequestRow,
  type PostgresConnectionRow as Row,
  tokenValues,
} from '../rows/connection-row.js';
import type { PostgresDatabase } from './database.js';

const { columns: COLUMNS, fromRow, metadataFromRow, fromRequestRow } = POSTGRES_CONNECTIONS;

export class PostgresConnectionStore implements ConnectionStore {
  constructor(private readonly db: PostgresDatabase) {}

  async get(user: string, server: string): Promise<ConnectionRecord | undefined> {
    const row = await this.db.row<Row>(`SELECT ${COLUMNS} FROM connections WHERE user_name = $1 AND server = $2`, [user, server]);
    return row ? fromRow(row) : undefined;
  }

  async list(filter: { user?: string | undefined; server?: string | undefined } = {}): Promise<ConnectionMetadata[]> {
    const rows = await this.db.rows<Row>(
      `SELECT ${COLUMNS} FROM connections WHERE ($1::text IS NULL OR user_name = $1) AND ($2::text IS NULL OR server = $2)
       ORDER BY user_name COLLATE "C", server COLLATE "C"`,
      [filter.user ?? null, filter.server ?? null],
    );
    return rows.map(metadataFromRow);
  }

  /** One statement: two nodes connecting the same user at once get successive generations. */
  async connect(record: { user: string; server: string; provider: string } & ConnectionTokens, now: number): Promise<{ generation: number }> {
    const row = await this.db.row<{ generation: number }>(
      `INSERT INTO connections (user_name, server, provider, refresh_sealed, access_sealed, access_expires_at, scopes, generation, created_at, refreshed_at, lock_owner, lock_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, NULL, NULL, NULL)
       ON CONFLICT (user_name, server) DO UPDATE SET provider = excluded.provider, scopes = excluded.scopes, refresh_sealed = excluded.refresh_sealed,
         access_sealed = excluded.access_sealed, access_expires_at = excluded.access_expires_at, generation = connections.generation + 1,
         created_at = excluded.created_at, refreshed_at = NULL, lock_owner = NULL, lock_until = NULL
       RETURNING generation`,
      [record.user, record.server, record.provider, ...tokenValues(record), now],
    );
    return { generation: (row as { generation: number }).generation };
  }

  async tryLock(user: string, server: string, owner: string, until: number, now: number): Promise<boolean> {
    // One conditional UPDATE: racing nodes queue on the row lock and re-check the condition.
    const result = await this.db.query(
      'UPDATE connections SET lock_owner = $1, lock_until = $2 WHERE user_name = $3 AND server = $4 AND (lock_owner IS NULL OR lock_owner = $1 OR lock_until <= $5)',
      [owner, until, user, server, now],
    );
    return result.rowCount === 1;
  }

  async unlock(user: string, server: string, owner: string): Promise<void> {
    await this.db.query('UPDATE connections SET lock_owner = NULL, lock_until = NULL WHERE user_name = $1 AND server = $2 AND lock_owner = $3', [
      user,
      server,
      owner,
    ]);
  }

  async commitRefresh(user: string, server: string, owner: string, tokens: ConnectionTokens, now: number): Promise<{ generation: number } | undefined> {
    const row = await this.db.row<{ generation: number }>(
      `UPDATE connections SET refresh_sealed = $1, access_sealed = $2, access_expires_at = $3, scopes = $4, generation = generation + 1, refreshed_at = $5,
         lock_owner = NULL, lock_until = NULL WHERE user_name = $6 AND server = $7 AND lock_owner = $8
       RETURNING generation`,
      [...tokenValues(tokens), now, user, server, owner],
    );
    return row ? { generation: row.generation } : undefined;
  }

  async expireAccessToken(user: string, server: string, generation: number): Promise<void> {
    await this.db.query('UPDATE connections SET access_sealed = NULL, access_expires_at = NULL WHERE user_name = $1 AND server = $2 AND generation = $3', [
      user,
      server,
      generation,
    ]);
  }

  async delete(user: string, server: string): Promise<ConnectionRecord | undefined> {
    const row = await this.db.row<Row>(`DELETE FROM connections WHERE user_name = $1 AND server = $2 RETURNING ${COLUMNS}`, [user, server]);
    return row ? fromRow(row) : undefined;
  }

  async deleteUser(user: string): Promise<ConnectionRecord[]> {
    return this.db.transaction(async (client) => {
      const rows = (await client.query<Row>(`DELETE FROM connections WHERE user_name = $1 RETURNING ${COLUMNS}`, [user])).rows;
      await client.query('DELETE FROM connection_requests WHERE user_name = $1', [user]);
      return rows.sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0)).map(fromRow);
    });
  }

  async putPending(pending: PendingConnection): Promise<void> {
    await this.db.transaction(async (client) => {
      await client.query('DELETE FROM connection_requests WHERE expires_at <= $1', [pending.createdAt]);
      await client.query(
        'INSERT INTO connection_requests (state, user_name, server, session_id, verifier_sealed, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        pendingValues(pending),
      );
    });
  }

  /** Single use across nodes: the DELETE … RETURNING hands the row to exactly one caller. */
  async takePending(state: string, now: number): Promise<PendingConnection | undefined> {
    const row = await this.db.row<PostgresConnectionRequestRow>('DELETE FROM connection_requests WHERE state = $1 RETURNING *', [state]);
    if (!row || row.expires_at <= now) return undefined;
    return fromRequestRow(row);
  }
}
