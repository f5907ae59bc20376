import type { McpSessionMatch, McpSessionRecord, McpSessionStore, NewMcpSession } from '../ports/mcp-session-store.js';
import { COLUMNS, type McpSessionRow, matchColumn, toRecord, toValues } from '../rows/mcp-session-row.js';
import type { SqliteDatabase } from './database.js';

export class SqliteMcpSessionStore implements McpSessionStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async create(session: NewMcpSession): Promise<void> {
    this.sql.statement(`INSERT INTO mcp_sessions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`).run(...toValues(session));
  }

  async live(id: string, now: number): Promise<McpSessionRecord | undefined> {
    const row = this.sql.statement(`SELECT ${COLUMNS} FROM mcp_sessions WHERE id = ? AND terminated_at IS NULL AND expires_at > ?`).get(id, now) as unknown as
      | McpSessionRow
      | undefined;
    return row ? toRecord(row) : undefined;
  }

  async touch(id: string, now: number, expiresAt: number): Promise<boolean> {
    const result = this.sql
      .statement('UPDATE mcp_sessions SET last_used_at = ?, expires_at = max(expires_at, ?) WHERE id = ? AND terminated_at IS NULL AND expires_at > ?')
      .run(now, expiresAt, id, now);
    return Number(result.changes) > 0;
  }

  async setLogLevel(id: string, level: string, now: number): Promise<boolean> {
    const result = this.sql.statement('UPDATE mcp_sessions SET log_level = ? WHERE id = ? AND terminated_at IS NULL AND expires_at > ?').run(level, id, now);
    return Number(result.changes) > 0;
  }

  async terminate(match: McpSessionMatch, at: number): Promise<number> {
    const [column, value] = matchColumn(match);
    const result = this.sql
      .statement(`UPDATE mcp_sessions SET terminated_at = ? WHERE ${column} = ? AND created_at <= ? AND terminated_at IS NULL`)
      .run(at, value, at);
    return Number(result.changes);
  }

  async liveAmong(ids: readonly string[], now: number): Promise<Set<string>> {
    const live = new Set<string>();
    const statement = this.sql.statement('SELECT 1 AS live FROM mcp_sessions WHERE id = ? AND terminated_at IS NULL AND expires_at > ?');
    for (const id of ids) if (statement.get(id, now)) live.add(id);
    return live;
  }

  async purge(before: number): Promise<number> {
    const result = this.sql.statement('DELETE FROM mcp_sessions WHERE expires_at < ? OR terminated_at < ?').run(before, before);
    return Number(result.changes);
  }
}
