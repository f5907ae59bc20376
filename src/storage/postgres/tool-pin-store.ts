import type { NewToolPin, ToolPinRecord, ToolPinStore } from '../ports/index.js';
import type { PostgresDatabase } from './database.js';
import { lockKey } from './locks.js';
import { type ToolPinRow as Row, toRecord, COLUMNS, insertValues } from '../rows/tool-pin-row.js';

/** Serialises decisions about one tool across nodes (SQLite's single writer does this for free). */
const toolLock = (server: string, tool: string) => lockKey(`tool-pins:${JSON.stringify([server, tool])}`);

export class PostgresToolPinStore implements ToolPinStore {
  constructor(private readonly db: PostgresDatabase) {}

  async list(server?: string): Promise<ToolPinRecord[]> {
    const rows =
      server === undefined
        ? await this.db.rows<Row>(`SELECT ${COLUMNS} FROM tool_pins ORDER BY server COLLATE "C", tool COLLATE "C", first_seen_at DESC, ord DESC`)
        : await this.db.rows<Row>(`SELECT ${COLUMNS} FROM tool_pins WHERE server = $1 ORDER BY tool COLLATE "C", first_seen_at DESC, ord DESC`, [server]);
    return rows.map(toRecord);
  }

  async forTool(server: string, tool: string): Promise<ToolPinRecord[]> {
    return (
      await this.db.rows<Row>(`SELECT ${COLUMNS} FROM tool_pins WHERE server = $1 AND tool = $2 ORDER BY first_seen_at DESC, ord DESC`, [server, tool])
    ).map(toRecord);
  }

  async approved(server: string): Promise<Map<string, string>> {
    const rows = await this.db.rows<{ tool: string; digest: string }>("SELECT tool, digest FROM tool_pins WHERE server = $1 AND state = 'approved'", [server]);
    return new Map(rows.map((r) => [r.tool, r.digest]));
  }

  async record(pin: NewToolPin): Promise<boolean> {
    return this.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [toolLock(pin.server, pin.tool)]);
      // An automatic approval never displaces an approved definition (two nodes may pin the
      // same first catalog at once): it is recorded as pending instead.
      const taken =
        pin.state === 'approved' &&
        ((await client.query("SELECT 1 FROM tool_pins WHERE server = $1 AND tool = $2 AND state = 'approved'", [pin.server, pin.tool])).rowCount ?? 0) > 0;
      // A superseded definition seen again is pending review again (an upstream switching back
      // to a definition an operator replaced is a change like any other).
      const result = await client.query(
        `INSERT INTO tool_pins (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (server, tool, digest) DO UPDATE SET state = 'pending', reason = excluded.reason, findings_json = excluded.findings_json,
           first_seen_at = excluded.first_seen_at, decided_at = NULL, decided_by = NULL
         WHERE tool_pins.state = 'superseded' AND excluded.state = 'pending'`,
        insertValues(pin, taken),
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  async approve(server: string, tool: string, digest: string, by: string, at: number): Promise<boolean> {
    return this.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [toolLock(server, tool)]);
      const exists = await client.query('SELECT 1 FROM tool_pins WHERE server = $1 AND tool = $2 AND digest = $3', [server, tool, digest]);
      if (exists.rowCount === 0) return false;
      // Every other definition is settled by this decision: the approved one is replaced, and
      // pending ones seen before it are no longer what the operator is asked about.
      await client.query("UPDATE tool_pins SET state = 'superseded' WHERE server = $1 AND tool = $2 AND state IN ('approved', 'pending') AND digest <> $3", [
        server,
        tool,
        digest,
      ]);
      await client.query(
        "UPDATE tool_pins SET state = 'approved', reason = 'operator', decided_at = $1, decided_by = $2 WHERE server = $3 AND tool = $4 AND digest = $5",
        [at, by, server, tool, digest],
      );
      return true;
    });
  }

  async serverSeen(server: string): Promise<boolean> {
    return ((await this.db.query('SELECT 1 FROM tool_pin_servers WHERE server = $1', [server])).rowCount ?? 0) > 0;
  }

  async markServerSeen(server: string, at: number): Promise<void> {
    await this.db.query('INSERT INTO tool_pin_servers (server, first_seen_at) VALUES ($1, $2) ON CONFLICT (server) DO NOTHING', [server, at]);
  }
}
