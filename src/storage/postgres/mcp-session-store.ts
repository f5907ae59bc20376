import type { McpSessionMatch, McpSessionRecord, McpSessionStore, NewMcpSession } from '../ports/mcp-session-store.js';
import { COLUMNS, type McpSessionRow, matchColumn, toRecord, toValues } from '../rows/mcp-session-row.js';
import type { PostgresDatabase } from './database.js';

export class PostgresMcpSessionStore implements McpSessionStore {
  constructor(private readonly db: PostgresDatabase) {}

  async create(session: NewMcpSession): Promise<void> {
    await this.db.query(`INSERT INTO mcp_sessions (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL)`, toValues(session));
  }

  async live(id: string, now: number): Promise<McpSessionRecord | undefined> {
    const row = await this.db.row<McpSessionRow>(`SELECT ${COLUMNS} FROM mcp_sessions WHERE id = $1 AND terminated_at IS NULL AND expires_at > $2`, [id, now]);
    return row ? toRecord(row) : undefined;
  }

  async touch(id: string, now: number, expiresAt: number): Promise<boolean> {
    const result = await this.db.query(
      'UPDATE mcp_sessions SET last_used_at = $1, expires_at = GREATEST(expires_at, $2) WHERE id = $3 AND terminated_at IS NULL AND expires_at > $1',
      [now, expiresAt, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async setLogLevel(id: string, level: string, now: number): Promise<boolean> {
    const result = await this.db.query('UPDATE mcp_sessions SET log_level = $1 WHERE id = $2 AND terminated_at IS NULL AND expires_at > $3', [level, id, now]);
    return (result.rowCount ?? 0) > 0;
  }

  async terminate(match: McpSessionMatch, at: number): Promise<number> {
    const [column, value] = matchColumn(match);
    const result = await this.db.query(`UPDATE mcp_sessions SET terminated_at = $1 WHERE ${column} = $2 AND created_at <= $1 AND terminated_at IS NULL`, [
      at,
      value,
    ]);
    return result.rowCount ?? 0;
  }

  async liveAmong(ids: readonly string[], now: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.rows<{ id: string }>('SELECT id FROM mcp_sessions WHERE id = ANY($1::text[]) AND terminated_at IS NULL AND expires_at > $2', [
      [...ids],
      now,
    ]);
    return new Set(rows.map((r) => r.id));
  }

  async purge(before: number): Promise<number> {
    const result = await this.db.query('DELETE FROM mcp_sessions WHERE expires_at < $1 OR terminated_at < $1', [before]);
    return result.rowCount ?? 0;
  }
}
