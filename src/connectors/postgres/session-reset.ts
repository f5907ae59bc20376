import { escapeLiteral } from 'pg';

/**
 * Leased connections are pooled, so whatever a call leaves in its session would meet the next
 * call: settings, a SET ROLE, advisory locks, LISTEN registrations, held cursors, temporary
 * objects, SQL-level prepared statements. The guard keeps queries from creating such state, but
 * this is not left to the guard alone: after every transaction (committed or rolled back) the
 * session is reset, then checked; a connection with anything left is closed, not reused.
 *
 * It is one simple-protocol message (several statements, no prepared statement a previous call
 * could have replaced), pipelined behind COMMIT/ROLLBACK, so a read-only call's answer does not
 * wait for it; the connection returns to the pool once it has run.
 *
 * `RESET ALL` skips `role` (and `session_authorization`, which only a superuser session can
 * change), hence `RESET ROLE`. `application_name` is set again afterwards: it is the DBA's
 * view of who last used the connection (pg_stat_activity), deliberately session-level.
 * `DEALLOCATE ALL` is not used: the driver keeps its own prepared statements on the connection;
 * SQL-level ones (`from_sql`) are counted instead, and the connection dropped if there are any.
 */
export function sessionResetSql(applicationName: string): string {
  return [
    'RESET ALL',
    'RESET ROLE',
    'UNLISTEN *',
    'CLOSE ALL',
    'DISCARD TEMP',
    'DISCARD SEQUENCES',
    // What the statements above cannot undo (SQL-level prepared statements), or should have
    // (the role), is reported; the rest they reset by construction.
    `SELECT pg_catalog.pg_advisory_unlock_all() AS unlocked, pg_catalog.set_config('application_name', ${escapeLiteral(applicationName)}, false) AS application_name,
       pg_catalog.concat_ws(', ',
         CASE WHEN current_user <> session_user THEN 'role ' || current_user END,
         (SELECT pg_catalog.count(*) || ' prepared statement(s)' FROM pg_catalog.pg_prepared_statements WHERE from_sql HAVING pg_catalog.count(*) > 0)
       ) AS leftover`,
  ].join(';\n');
}

/** The `leftover` column of the reset's last result: empty when the session is clean. */
export function leftoverOf(results: unknown): string {
  const list = Array.isArray(results) ? results : [results];
  const last = list[list.length - 1] as { rows?: unknown[][] | Record<string, unknown>[]; fields?: { name: string }[] } | undefined;
  const row = last?.rows?.[0];
  if (row === undefined) return 'no answer from the reset';
  if (Array.isArray(row)) {
    const index = last?.fields?.findIndex((f) => f.name === 'leftover') ?? -1;
    return index >= 0 ? String(row[index] ?? '') : 'no answer from the reset';
  }
  return String(row.leftover ?? '');
}
