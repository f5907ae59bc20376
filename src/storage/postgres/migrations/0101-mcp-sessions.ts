import type { PostgresMigration } from './index.js';

/**
 * The routing data of session-era MCP sessions (see McpSessionStore), shared so any node of a
 * cluster serves any request of a session. Terminated sessions stay as tombstones until
 * purged, so an id is never served again. Not a watched table: nodes ask for a session when
 * a request names it, so no change notification is needed.
 */
export const mcpSessions: PostgresMigration = {
  id: '0101-mcp-sessions',
  sql: `
CREATE TABLE IF NOT EXISTS mcp_sessions (
  id TEXT PRIMARY KEY,
  sub TEXT NOT NULL,
  client_id TEXT,
  opened_jti TEXT NOT NULL,
  opened_grant_id TEXT,
  protocol_version TEXT NOT NULL,
  client_capabilities TEXT NOT NULL,
  client_info TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  terminated_at BIGINT,
  log_level TEXT
);
CREATE INDEX IF NOT EXISTS mcp_sessions_sub ON mcp_sessions (sub);
CREATE INDEX IF NOT EXISTS mcp_sessions_expiry ON mcp_sessions (expires_at);
`,
};
