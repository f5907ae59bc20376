import type { Migration } from './index.js';

/** Tables other processes (the CLI, other nodes) write and the gateway keeps in memory. */
const WATCHED = ['users', 'revocations', 'signing_keys', 'vault_secrets'] as const;

/**
 * A counter that moves only when shared, cached state changes. PRAGMA data_version alone also
 * moves on every audit commit (the audit writer has its own connection), which made the
 * gateway reload keys and revocations on nearly every request.
 */
export const changeCounter: Migration = {
  id: '0004-change-counter',
  sql: `
CREATE TABLE change_counter (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
) STRICT;
INSERT INTO change_counter (id, value) VALUES (1, 0);
${WATCHED.flatMap((table) =>
  ['INSERT', 'UPDATE', 'DELETE'].map(
    (op) => `CREATE TRIGGER ${table}_${op.toLowerCase()}_changes AFTER ${op} ON ${table} BEGIN UPDATE change_counter SET value = value + 1 WHERE id = 1; END;`,
  ),
).join('\n')}
`,
};
