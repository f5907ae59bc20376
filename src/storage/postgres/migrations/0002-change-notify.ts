import type { PostgresMigration } from './index.js';

/** Tables other nodes keep in memory: a committed change to any of them is announced. */
export const WATCHED_TABLES = [
  'users',
  'federated_identities',
  'revocations',
  'signing_keys',
  'vault_secrets',
  'settings',
  'tool_pins',
  'connections',
] as const;

/** The channel change notifications go to (PostgresChangeListener LISTENs on it). */
export const CHANGE_CHANNEL = 'gatehouse_changes';

/**
 * A statement trigger on each watched table NOTIFYs with the writing connection's node id
 * (`gatehouse.node`, set by every Gatehouse connection; empty for psql or a migration tool).
 * PostgreSQL delivers notifications only on commit and folds identical ones within a
 * transaction, so a batch of writes is one notification. Being in the database, the trigger
 * also covers writers that are not Gatehouse.
 */
export const changeNotify: PostgresMigration = {
  id: '0002-change-notify',
  sql: `
CREATE FUNCTION gatehouse_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${CHANGE_CHANNEL}', coalesce(current_setting('gatehouse.node', true), ''));
  RETURN NULL;
END;
$$;
${WATCHED_TABLES.map(
  (table) =>
    `CREATE TRIGGER ${table}_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_notify_change();`,
).join('\n')}
`,
};
