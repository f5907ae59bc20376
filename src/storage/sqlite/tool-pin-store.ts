import type { NewToolPin, ToolPinRecord, ToolPinStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';
import { type ToolPinRow as Row, toRecord, COLUMNS, insertValues } from '../rows/tool-pin-row.js';

export class SqliteToolPinStore implements ToolPinStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async list(server?: string): Promise<ToolPinRecord[]> {
    const rows =
      server === undefined
        ? this.sql.statement(`SELECT ${COLUMNS} FROM tool_pins ORDER BY server, tool, first_seen_at DESC, rowid DESC`).all()
        : this.sql.statement(`SELECT ${COLUMNS} FROM tool_pins WHERE server = ? ORDER BY tool, first_seen_at DESC, rowid DESC`).all(server);
    return (rows as unknown as Row[]).map(toRecord);
  }

  async forTool(server: string, tool: string): Promise<ToolPinRecord[]> {
    const rows = this.sql
      .statement(`SELECT ${COLUMNS} FROM tool_pins WHERE server = ? AND tool = ? ORDER BY first_seen_at DESC, rowid DESC`)
      .all(server, tool) as unknown as Row[];
    return rows.map(toRecord);
  }

  async approved(server: string): Promise<Map<string, string>> {
    const rows = this.sql.statement("SELECT tool, digest FROM tool_pins WHERE server = ? AND state = 'approved'").all(server) as {
      tool: string;
      digest: string;
    }[];
    return new Map(rows.map((r) => [r.tool, r.digest]));
  }

  async record(pin: NewToolPin): Promise<boolean> {
    return this.sql.transaction(() => {
      // An automatic approval never displaces an approved definition (two processes may pin the
      // same first catalog at once): it is recorded as pending instead.
      const taken =
        pin.state === 'approved' &&
        this.sql.statement("SELECT 1 FROM tool_pins WHERE server = ? AND tool = ? AND state = 'approved'").get(pin.server, pin.tool) !== undefined;
      const result = this.sql
        // A superseded definition seen again is pending review again (an upstream switching
        // back to a definition an operator replaced is a change like any other).
        .statement(
          `INSERT INTO tool_pins (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (server, tool, digest) DO UPDATE SET state = 'pending', reason = excluded.reason, findings_json = excluded.findings_json,
             first_seen_at = excluded.first_seen_at, decided_at = NULL, decided_by = NULL
           WHERE tool_pins.state = 'superseded' AND excluded.state = 'pending'`,
        )
        .run(...insertValues(pin, taken));
      return Number(result.changes) > 0;
    });
  }

  async approve(server: string, tool: string, digest: string, by: string, at: number): Promise<boolean> {
    return this.sql.transaction(() => {
      const exists = this.sql.statement('SELECT 1 FROM tool_pins WHERE server = ? AND tool = ? AND digest = ?').get(server, tool, digest);
      if (!exists) return false;
      this.sql
        // Every other definition is settled by this decision: the approved one is replaced, and
        // pending ones seen before it are no longer what the operator is asked about.
        .statement("UPDATE tool_pins SET state = 'superseded' WHERE server = ? AND tool = ? AND state IN ('approved', 'pending') AND digest <> ?")
        .run(server, tool, digest);
      this.sql
        .statement("UPDATE tool_pins SET state = 'approved', reason = 'operator', decided_at = ?, decided_by = ? WHERE server = ? AND tool = ? AND digest = ?")
        .run(at, by, server, tool, digest);
      return true;
    });
  }

  async serverSeen(server: string): Promise<boolean> {
    return this.sql.statement('SELECT 1 FROM tool_pin_servers WHERE server = ?').get(server) !== undefined;
  }

  async markServerSeen(server: string, at: number): Promise<void> {
    this.sql.statement('INSERT INTO tool_pin_servers (server, first_seen_at) VALUES (?, ?) ON CONFLICT (server) DO NOTHING').run(server, at);
  }
}
