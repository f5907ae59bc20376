// The tool-pin row as both stores keep it (same columns in SQLite and PostgreSQL) and its mapping to
// the port's record: one definition, so the two stores cannot drift apart.

import type { ToolPinReason, ToolPinRecord, ToolPinState } from '../ports/index.js';

export interface ToolPinRow {
  server: string;
  tool: string;
  digest: string;
  definition: string;
  state: ToolPinState;
  reason: ToolPinReason;
  findings_json: string;
  first_seen_at: number;
  decided_at: number | null;
  decided_by: string | null;
}

export function toRecord(row: ToolPinRow): ToolPinRecord {
  return {
    server: row.server,
    tool: row.tool,
    digest: row.digest,
    definition: row.definition,
    state: row.state,
    reason: row.reason,
    findings: JSON.parse(row.findings_json) as string[],
    firstSeenAt: row.first_seen_at,
    ...(row.decided_at !== null ? { decidedAt: row.decided_at } : {}),
    ...(row.decided_by !== null ? { decidedBy: row.decided_by } : {}),
  };
}

export const COLUMNS = 'server, tool, digest, definition, state, reason, findings_json, first_seen_at, decided_at, decided_by';
