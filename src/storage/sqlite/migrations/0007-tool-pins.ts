import type { Migration } from './index.js';

/**
 * Pinned upstream tool definitions (see ToolPinStore). `tool_pin_servers` records that a
 * server's first catalog was pinned, so a tool appearing later is "new", not "first start".
 * Approvals are written by the CLI while the gateway runs: the change counter moves with them.
 */
export const toolPins: Migration = {
  id: '0007-tool-pins',
  sql: `
CREATE TABLE tool_pins (
  server        TEXT NOT NULL,
  tool          TEXT NOT NULL,
  digest        TEXT NOT NULL,
  definition    TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('approved', 'pending', 'superseded')),
  reason        TEXT NOT NULL CHECK (reason IN ('first-start', 'trust-on-first-use', 'operator', 'new', 'changed', 'poisoned')),
  findings_json TEXT NOT NULL DEFAULT '[]',
  first_seen_at INTEGER NOT NULL,
  decided_at    INTEGER,
  decided_by    TEXT,
  PRIMARY KEY (server, tool, digest)
) STRICT;
CREATE UNIQUE INDEX tool_pins_one_approved ON tool_pins (server, tool) WHERE state = 'approved';
CREATE TABLE tool_pin_servers (
  server        TEXT PRIMARY KEY,
  first_seen_at INTEGER NOT NULL
) STRICT;
${['INSERT', 'UPDATE', 'DELETE']
  .map(
    (op) =>
      `CREATE TRIGGER tool_pins_${op.toLowerCase()}_changes AFTER ${op} ON tool_pins BEGIN UPDATE change_counter SET value = value + 1 WHERE id = 1; END;`,
  )
  .join('\n')}
`,
};
