// The MCP session row as both stores keep it (same columns in SQLite and PostgreSQL) and its
// mapping to the port's record: one definition, so the two stores cannot drift apart.

import type { McpSessionMatch, McpSessionRecord, NewMcpSession } from '../ports/mcp-session-store.js';

export interface McpSessionRow {
  id: string;
  sub: string;
  client_id: string | null;
  opened_jti: string;
  opened_grant_id: string | null;
  protocol_version: string;
  client_capabilities: string;
  client_info: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  terminated_at: number | null;
  log_level: string | null;
}

export const COLUMNS =
  'id, sub, client_id, opened_jti, opened_grant_id, protocol_version, client_capabilities, client_info, created_at, last_used_at, expires_at, terminated_at, log_level';

/** The values of a new row, in `COLUMNS` order without `terminated_at` and `log_level`. */
export function toValues(session: NewMcpSession): (string | number | null)[] {
  return [
    session.id,
    session.sub,
    session.clientId ?? null,
    session.openedJti,
    session.openedGrantId ?? null,
    session.protocolVersion,
    JSON.stringify(session.clientCapabilities),
    JSON.stringify(session.clientInfo),
    session.createdAt,
    session.lastUsedAt,
    session.expiresAt,
  ];
}

export function toRecord(row: McpSessionRow): McpSessionRecord {
  return {
    id: row.id,
    sub: row.sub,
    clientId: row.client_id ?? undefined,
    openedJti: row.opened_jti,
    openedGrantId: row.opened_grant_id ?? undefined,
    protocolVersion: row.protocol_version,
    clientCapabilities: JSON.parse(row.client_capabilities) as Record<string, unknown>,
    clientInfo: JSON.parse(row.client_info) as Record<string, unknown>,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    terminatedAt: row.terminated_at ?? undefined,
    logLevel: row.log_level ?? undefined,
  };
}

/** The column a revocation match selects on, and its value (column names are fixed here, never input). */
export function matchColumn(match: McpSessionMatch): [column: string, value: string] {
  if ('sub' in match) return ['sub', match.sub];
  if ('clientId' in match) return ['client_id', match.clientId];
  if ('grantId' in match) return ['opened_grant_id', match.grantId];
  if ('jti' in match) return ['opened_jti', match.jti];
  return ['id', match.id];
}
