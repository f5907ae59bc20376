/**
 * The actor — the human a leased role acts for — bound to something no SQL on the leased
 * connection can change: the login role itself. Each leased role is minted for one user, so the
 * admin records `role → actor` in `gatehouse.lease_actors` when it creates the role (same
 * transaction) and deletes the row when it drops the role. `gatehouse.actor()` looks up
 * `session_user`, which only a superuser can change (SET ROLE changes current_user, not
 * session_user). Row-level security uses `gatehouse.actor()`; the `gatehouse.actor` setting is
 * still set in every transaction, for logs, but is informational: a session can set any
 * setting it likes.
 *
 * The objects are installed once per database by its owner or a superuser (the SQL below, also
 * in docs/vault.md and examples/postgres/crm.sql). At start, and before minting when the last
 * check is older than a minute, the admin verifies that nobody else could forge a mapping.
 */

export const ACTOR_SCHEMA_SQL = `CREATE SCHEMA IF NOT EXISTS gatehouse;
REVOKE ALL ON SCHEMA gatehouse FROM PUBLIC;
GRANT USAGE ON SCHEMA gatehouse TO PUBLIC;
CREATE TABLE IF NOT EXISTS gatehouse.lease_actors (
  role       name PRIMARY KEY,
  actor      text NOT NULL,
  lease_id   text NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON gatehouse.lease_actors FROM PUBLIC;
CREATE OR REPLACE FUNCTION gatehouse.actor() RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT actor FROM gatehouse.lease_actors WHERE role = session_user AND expires_at > now() $$;
REVOKE ALL ON FUNCTION gatehouse.actor() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gatehouse.actor() TO PUBLIC;`;

/** The grant the admin role needs on the mapping (run after ACTOR_SCHEMA_SQL, naming the admin role). */
export function actorGrantSql(adminRole: string): string {
  return `GRANT SELECT, INSERT, DELETE ON gatehouse.lease_actors TO ${adminRole};`;
}

/**
 * Problems that would let someone other than the admin (or a superuser) forge the mapping, or
 * keep the admin from maintaining it. One row, one text[]; empty when all is well. "Trusted"
 * is the admin role itself and superusers.
 */
export const ACTOR_BINDING_CHECK_SQL = `WITH trusted AS (
  SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user OR rolsuper
),
s AS (SELECT n.oid, n.nspowner, n.nspacl FROM pg_catalog.pg_namespace n WHERE n.nspname = 'gatehouse'),
t AS (SELECT c.oid, c.relowner, c.relacl FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass('gatehouse.lease_actors')),
f AS (SELECT p.oid, p.proowner FROM pg_catalog.pg_proc p WHERE p.oid = pg_catalog.to_regprocedure('gatehouse.actor()'))
SELECT ARRAY(
  SELECT problem FROM (
    SELECT 'the schema gatehouse does not exist' AS problem WHERE NOT EXISTS (SELECT FROM s)
    UNION ALL SELECT 'the table gatehouse.lease_actors does not exist' WHERE EXISTS (SELECT FROM s) AND NOT EXISTS (SELECT FROM t)
    UNION ALL SELECT 'the function gatehouse.actor() does not exist' WHERE EXISTS (SELECT FROM s) AND NOT EXISTS (SELECT FROM f)
    UNION ALL SELECT 'the schema gatehouse is owned by ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(s.nspowner)) || ', neither this admin role nor a superuser'
      FROM s WHERE s.nspowner NOT IN (SELECT oid FROM trusted)
    UNION ALL SELECT 'the table gatehouse.lease_actors is owned by ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(t.relowner)) || ', neither this admin role nor a superuser'
      FROM t WHERE t.relowner NOT IN (SELECT oid FROM trusted)
    UNION ALL SELECT 'the function gatehouse.actor() is owned by ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(f.proowner)) || ', neither this admin role nor a superuser'
      FROM f WHERE f.proowner NOT IN (SELECT oid FROM trusted)
    UNION ALL SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END || ' has ' || a.privilege_type || ' on gatehouse.lease_actors'
      FROM t CROSS JOIN LATERAL pg_catalog.aclexplode(t.relacl) a
     WHERE a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER') AND a.grantee NOT IN (SELECT oid FROM trusted) AND a.grantee <> t.relowner
    UNION ALL SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END || ' has CREATE on the schema gatehouse'
      FROM s CROSS JOIN LATERAL pg_catalog.aclexplode(s.nspacl) a
     WHERE a.privilege_type = 'CREATE' AND a.grantee NOT IN (SELECT oid FROM trusted) AND a.grantee <> s.nspowner
    UNION ALL SELECT 'this admin role may not ' || p.priv || ' gatehouse.lease_actors'
      FROM t CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('DELETE')) AS p(priv)
     WHERE NOT pg_catalog.has_table_privilege(t.oid, p.priv)
  ) problems
) AS problems`;

export class ActorBindingError extends Error {
  constructor(
    readonly database: string,
    readonly problems: readonly string[],
  ) {
    super(
      `PostgreSQL database "${database}" cannot bind leased roles to their users: ${problems.join('; ')}. ` +
        'Install the gatehouse schema as the database owner or a superuser (docs/vault.md, "Database set-up").',
    );
    this.name = 'ActorBindingError';
  }
}
