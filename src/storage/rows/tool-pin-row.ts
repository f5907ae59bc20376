// The tool-pin row as both stores keep it (same columns in SQLite and PostgreSQL) and its mapping to
// the port's record: one definition, so the two stores cannot drift apart.

import type { ToolPinRecord } from '../ports/index.js';

/** The columns that hold a record field unchanged, plus the encoded ones. */
export interface ToolPinRow extends Pick<ToolPinRecord, 'server' | 'tool' | 'digest' | 'definition' | 'state' | 'reason'> {
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

/**
 * The values of an INSERT of `COLUMNS` for a new pin. `taken`: another definition of the tool is
 * already approved (a concurrent first catalog), so this one is recorded as a pending change.
 */
export function insertValues(pin: ToolPinRecord, taken: boolean): (string | number | null)[] {
  return [
    pin.server,
    pin.tool,
    pin.digest,
    pin.definition,
    taken ? 'pending' : pin.state,
    taken ? 'changed' : pin.reason,
    JSON.stringify(pin.findings),
    pin.firstSeenAt,
    taken ? null : (pin.decidedAt ?? null),
    taken ? null : (pin.decidedBy ?? null),
  ];
}
