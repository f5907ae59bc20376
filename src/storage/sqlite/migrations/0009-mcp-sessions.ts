import type { Migration } from './index.js';

/**
 * The routing data of session-era MCP sessions (see McpSessionStore): kept in the store so a
 * session outlives the process that opened it, and with PostgreSQL, so any node serves it.
 * Terminated sessions stay as tombstones until purged, so an id is never served again.
 */
export const mcpSessions: Migration = {
  id: '0009-mcp-sessions',
  sql: `
CREATE TABLE mcp_sessions (
  id TEXT PRIMARY KEY,
  sub TEXT NOT NULL,
  client_id TEXT,
  opened_jti TEXT NOT NULL,
  opened_grant_id TEXT,
  protocol_version TEXT NOT NULL,
  client_capabilities TEXT NOT NULL,
  client_info TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  terminated_at INTEGER,
  log_level TEXT
) STRICT;
CREATE INDEX mcp_sessions_sub ON mcp_sessions (sub);
CREATE INDEX mcp_sessions_expiry ON mcp_sessions (expires_at);
`,
};
