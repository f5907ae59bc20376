import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import type { ConfigInput } from '../../src/config/index.js';
import type { PostgresConnectionInfo } from './postgres-cluster.ts';

/** The `postgres:` block of a server entry, as written in gatehouse.yaml. */
type PostgresSettingsInput = Extract<NonNullable<ConfigInput['servers']>[string], { postgres: unknown }>['postgres'];

const EXAMPLE_SQL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/postgres/crm.sql');

export interface CrmDatabase {
  info: PostgresConnectionInfo;
  database: string;
  adminUser: string;
  /** The admin role's password: a canary, checked never to appear anywhere. */
  adminPassword: string;
  /** Runs SQL as the superuser in this database. */
  sql<T extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  /** Logs in as `user`; resolves to the error message, or 'ok'. */
  tryLogin(user: string, password: string): Promise<string>;
  /** Leased roles this database's admin created (members of a template, marked by the comment). */
  roles(prefix?: string): Promise<{ rolname: string; rolvaliduntil: Date | null; comment: string | null; member_of: string[] }[]>;
  close(): Promise<void>;
}

/**
 * The `postgres:` block of a server on this database: its admin login from the vault entry
 * `pg-admin`, the CRM example's template roles, and the test's own settings on top.
 */
export function crmPostgresSettings(db: CrmDatabase, settings: Partial<PostgresSettingsInput> = {}): PostgresSettingsInput {
  return {
    host: db.info.host,
    port: db.info.port,
    database: db.database,
    admin: { user: db.adminUser, password: 'vault:pg-admin' },
    roles: { support: 'crm_support', sales: 'crm_reader' },
    ...settings,
  };
}

/**
 * A fresh database in the shared test cluster with the shipped CRM example loaded and an admin
 * role (CREATEROLE, pg_signal_backend, ADMIN OPTION on the templates, maintains
 * gatehouse.lease_actors) whose password is a canary.
 */
export async function createCrmDatabase(info: PostgresConnectionInfo, label: string): Promise<CrmDatabase> {
  const suffix = randomBytes(4).toString('hex');
  const database = `gh_${label}_${suffix}`.toLowerCase();
  const adminUser = `gatehouse_admin_${suffix}`;
  const adminPassword = `canary-pg-admin-${randomBytes(12).toString('hex')}`;
  const root = new Client({ ...info, database: 'postgres' });
  await root.connect();
  try {
    await root.query(`CREATE DATABASE ${database}`);
    await root.query(`CREATE ROLE ${adminUser} LOGIN CREATEROLE PASSWORD '${adminPassword}'`);
    await root.query(`GRANT pg_signal_backend TO ${adminUser}`);
  } finally {
    await root.end();
  }
  const superuser = new Client({ ...info, database });
  await superuser.connect();
  await superuser.query(readFileSync(EXAMPLE_SQL, 'utf8'));
  // PostgreSQL 16+: a CREATEROLE role may only grant membership in roles it administers.
  await superuser.query(`GRANT crm_reader, crm_support TO ${adminUser} WITH ADMIN OPTION`);
  // The admin records which user each leased role acts for (gatehouse.actor()).
  await superuser.query(`GRANT SELECT, INSERT, DELETE ON gatehouse.lease_actors TO ${adminUser}`);
  return {
    info,
    database,
    adminUser,
    adminPassword,
    async sql(text, values) {
      return (await superuser.query(text, values)).rows;
    },
    async tryLogin(user, password) {
      const client = new Client({ ...info, database, user, password, connectionTimeoutMillis: 5000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return 'ok';
      } catch (error) {
        return (error as Error).message;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async roles(prefix = 'gh\\_%') {
      return (
        await superuser.query(
          `SELECT r.rolname, r.rolvaliduntil, shobj_description(r.oid, 'pg_authid') AS comment,
                  ARRAY(SELECT b.rolname::text FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of
             FROM pg_roles r
            WHERE r.rolname LIKE $1 AND shobj_description(r.oid, 'pg_authid') LIKE 'gatehouse:lease:%'
              -- only roles this database's admin created (other test files share the cluster)
              AND EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles a ON a.oid = m.grantor WHERE m.member = r.oid AND a.rolname = $2)
            ORDER BY 1`,
          [prefix, adminUser],
        )
      ).rows;
    },
    async close() {
      await superuser.end().catch(() => undefined);
    },
  };
}
