import type { PostgresMigration } from './index.js';

/**
 * Tables other nodes keep in memory, and for updates, the columns that matter to those copies
 * (undefined: all). Bookkeeping writes that nobody caches (a sign-in attempt counted, a vault
 * secret's "last used", a refresh lock taken) do not make every other node reload.
 */
export const WATCHED: Readonly<Record<string, readonly string[] | undefined>> = {
  users: ['name', 'source', 'groups', 'password_hash', 'totp_secret', 'disabled_at', 'attributes'],
  federated_identities: undefined,
  revocations: undefined,
  signing_keys: undefined,
  vault_secrets: ['name', 'version', 'kek_id', 'wrapped_key', 'iv', 'ciphertext', 'tag'],
  settings: undefined,
  tool_pins: undefined,
  connections: ['provider', 'scopes', 'refresh_sealed', 'access_sealed', 'access_expires_at', 'generation'],
};

export const WATCHED_TABLES = Object.keys(WATCHED);

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
${Object.entries(WATCHED)
  .map(
    ([table, columns]) =>
      `CREATE TRIGGER ${table}_changes AFTER INSERT OR ${columns ? `UPDATE OF ${columns.join(', ')}` : 'UPDATE'} OR DELETE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_notify_change();`,
  )
  .join('\n')}
`,
};
