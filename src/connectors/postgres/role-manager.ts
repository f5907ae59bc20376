import { escapeIdentifier, escapeLiteral, Pool, type PoolConfig } from 'pg';
import type { PostgresSettings } from '../../config/index.js';
import type { Logger } from '../../log/index.js';
import { ACTOR_BINDING_CHECK_SQL, ActorBindingError } from './actor-binding.js';
import { isLoopbackHost } from '../../util/loopback-host.js';
import { postgresSsl } from '../../util/postgres-tls.js';

/** Prefix of every role Gatehouse creates; the sweep never touches anything else. */
export const LEASED_ROLE_PREFIX = 'gh_';
/** Marks leased roles in pg_authid's comments, with the lease id. */
export const ROLE_COMMENT_PREFIX = 'gatehouse:lease:';
/** How long a successful check of the actor binding is trusted before minting checks again. */
const ACTOR_BINDING_RECHECK_MS = 60_000;
/** SQLSTATE undefined_table: the mapping table is not installed (cleanup still drops roles). */
const UNDEFINED_TABLE = '42P01';

export { isLoopbackHost };

/** TLS and address settings shared by the admin connection and every leased role's pool. */
export function connectionBase(settings: PostgresSettings, baseDir: string): Pick<PoolConfig, 'host' | 'port' | 'database' | 'ssl'> {
  const ssl = postgresSsl(settings.host, settings.ssl, settings.sslRootCert, baseDir);
  return { host: settings.host, port: settings.port, database: settings.database, ssl };
}

export interface CreateRoleSpec {
  name: string;
  /** SCRAM verifier, never the password itself. */
  verifier: string;
  /** When the role's password stops working, by the local clock (converted to the server's). */
  expiresAt: number;
  templates: readonly string[];
  connectionLimit: number;
  leaseId: string;
  actor: string;
}

/**
 * Everything done with the admin credential: create a leased role and record whom it acts for
 * (gatehouse.lease_actors, see actor-binding.ts), terminate its sessions and drop it, and sweep
 * expired leftovers. The admin credential is used for nothing else — it never runs a tool's SQL. Its password is fetched from the vault on each new connection (so a
 * rotation applies without a restart), and an idle admin connection closes after a minute.
 */
export class RoleManager {
  readonly #pool: Pool;
  #clockOffsetMs: number | undefined;
  #clockMeasuredAt = 0;
  #serverVersion = 0;
  #actorBindingCheckedAt = 0;
  readonly #database: string;

  constructor(
    settings: PostgresSettings,
    baseDir: string,
    password: () => Promise<string>,
    private readonly log: Logger,
  ) {
    this.#database = settings.database;
    this.#pool = new Pool({
      ...connectionBase(settings, baseDir),
      user: settings.admin.user,
      password,
      max: 2,
      idleTimeoutMillis: 60_000,
      connectionTimeoutMillis: 10_000,
      application_name: 'gatehouse:role-manager',
      allowExitOnIdle: true,
    });
    // An idle admin connection that breaks (server restart) must not crash the gateway.
    this.#pool.on('error', (error) => this.log.warn({ err: error.message }, 'admin connection error'));
  }

  /** Server clock minus local clock, so VALID UNTIL matches the lease by the server's own clock. */
  async #clockOffset(): Promise<number> {
    if (this.#clockOffsetMs !== undefined && Date.now() - this.#clockMeasuredAt < 10 * 60_000) return this.#clockOffsetMs;
    const before = Date.now();
    const { rows } = await this.#pool.query<{ now: number; version: number }>(
      "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now, current_setting('server_version_num')::int AS version",
    );
    const after = Date.now();
    const row = rows[0] as { now: number; version: number };
    this.#clockOffsetMs = Math.round(row.now - (before + after) / 2);
    this.#serverVersion = row.version;
    this.#clockMeasuredAt = after;
    return this.#clockOffsetMs;
  }

  /** Checks the admin credential works and the actor binding is sound (readiness). */
  async probe(): Promise<void> {
    this.#clockMeasuredAt = 0;
    await this.#clockOffset();
    await this.verifyActorBinding();
  }

  /**
   * Throws ActorBindingError unless gatehouse.lease_actors and gatehouse.actor() exist, are
   * owned by this admin role or a superuser, nobody else may write the mapping (or create in
   * its schema), and this admin may maintain it.
   */
  async verifyActorBinding(): Promise<void> {
    const { rows } = await this.#pool.query<{ problems: string[] }>(ACTOR_BINDING_CHECK_SQL);
    const problems = rows[0]?.problems ?? ['the check returned nothing'];
    if (problems.length > 0) {
      this.#actorBindingCheckedAt = 0;
      throw new ActorBindingError(this.#database, problems);
    }
    this.#actorBindingCheckedAt = Date.now();
  }

  /**
   * One round trip, one implicit transaction: the role, its marker comment, and the row that
   * binds it to its actor (so a role never exists without its actor, nor the reverse). Utility
   * statements take no bind parameters, so every identifier and literal is quoted with the
   * driver's escapeIdentifier/escapeLiteral; none of it comes from an agent (the role name is
   * generated, templates come from config, the actor from a verified token).
   */
  async createRole(spec: CreateRoleSpec): Promise<void> {
    if (Date.now() - this.#actorBindingCheckedAt > ACTOR_BINDING_RECHECK_MS) await this.verifyActorBinding();
    const offset = await this.#clockOffset();
    const validUntil = new Date(spec.expiresAt + offset).toISOString();
    const role = escapeIdentifier(spec.name);
    const inRole = spec.templates.length > 0 ? ` IN ROLE ${spec.templates.map(escapeIdentifier).join(', ')}` : '';
    const comment = `${ROLE_COMMENT_PREFIX}${spec.leaseId} actor=${spec.actor} expires=${validUntil}`;
    await this.#pool.query(
      `CREATE ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT` +
        ` CONNECTION LIMIT ${Math.floor(spec.connectionLimit)} PASSWORD ${escapeLiteral(spec.verifier)} VALID UNTIL ${escapeLiteral(validUntil)}${inRole};` +
        ` COMMENT ON ROLE ${role} IS ${escapeLiteral(comment)};` +
        ` DELETE FROM gatehouse.lease_actors WHERE role = ${escapeLiteral(spec.name)};` +
        ` INSERT INTO gatehouse.lease_actors (role, actor, lease_id, expires_at) VALUES (${escapeLiteral(spec.name)}, ${escapeLiteral(spec.actor)}, ${escapeLiteral(spec.leaseId)}, ${escapeLiteral(validUntil)})`,
    );
  }

  /** Deletes actor rows: of one role, or of every role that no longer exists. Tolerates a missing table (cleanup must still drop roles). */
  async #forgetActors(role?: string): Promise<void> {
    try {
      if (role === undefined) {
        await this.#pool.query('DELETE FROM gatehouse.lease_actors a WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = a.role)');
      } else {
        await this.#pool.query('DELETE FROM gatehouse.lease_actors WHERE role = $1', [role]);
      }
    } catch (error) {
      if ((error as { code?: string }).code !== UNDEFINED_TABLE) throw error;
    }
  }

  /**
   * Unbinds the role from its actor (from then on gatehouse.actor() is NULL for its sessions),
   * ends every session of the role, then drops it. Idempotent: a role that is gone is fine.
   */
  async dropRole(name: string): Promise<void> {
    await this.#clockOffset();
    await this.#forgetActors(name);
    // Since PostgreSQL 14 pg_terminate_backend can wait for the session to be gone.
    const terminate =
      this.#serverVersion >= 140000
        ? 'SELECT pg_terminate_backend(pid, 2000) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()'
        : 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()';
    await this.#pool.query(terminate, [name]);
    try {
      await this.#pool.query(`DROP ROLE IF EXISTS ${escapeIdentifier(name)}`);
    } catch (error) {
      if ((error as { code?: string }).code !== '2BP01') throw error;
      // Dependent objects (privileges granted to the role directly, objects it owns): hand them
      // over and drop them, then the role.
      await this.#pool.query(`REASSIGN OWNED BY ${escapeIdentifier(name)} TO CURRENT_USER; DROP OWNED BY ${escapeIdentifier(name)}`);
      await this.#pool.query(`DROP ROLE IF EXISTS ${escapeIdentifier(name)}`);
    }
  }

  /** True if the role exists (tests and status). */
  async roleExists(name: string): Promise<boolean> {
    const { rows } = await this.#pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    return rows.length > 0;
  }

  /**
   * Drops leased roles whose password has expired by the server's clock, whoever created them:
   * they can never log in again, and any session they still hold outlived its lease.
   */
  async sweepExpired(): Promise<string[]> {
    const { rows } = await this.#pool.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles
        WHERE rolname LIKE $1 AND rolvaliduntil IS NOT NULL AND rolvaliduntil < now()
          AND shobj_description(oid, 'pg_authid') LIKE $2
        ORDER BY rolname`,
      [`${LEASED_ROLE_PREFIX.replace(/_/g, '\\_')}%`, `${ROLE_COMMENT_PREFIX}%`],
    );
    const dropped: string[] = [];
    for (const { rolname } of rows) {
      await this.dropRole(rolname);
      dropped.push(rolname);
    }
    await this.#forgetActors();
    return dropped;
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => undefined);
  }
}
