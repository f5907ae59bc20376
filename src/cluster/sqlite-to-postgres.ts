import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { PoolClient } from 'pg';
import { verifyAuditLog, type AuditVerification } from '../audit/index.js';
import { DATABASE_FILE, SqliteStorage } from '../storage/index.js';
import { auditIndexedFields } from '../storage/postgres/audit-indexed-fields.js';
import type { PostgresStorage } from '../storage/postgres/index.js';

/**
 * Tables copied, in this order. Everything Gatehouse keeps except bookkeeping that belongs to
 * one engine (SQLite's change counter and sequences, each schema's migration list) and state
 * that is only meaningful while a node runs (the cluster's replay cache and rate counters, MCP
 * sessions: clients open new ones after the move).
 */
export const COPIED_TABLES = [
  'settings',
  'signing_keys',
  'audit_records',
  'audit_checkpoints',
  'users',
  'federated_identities',
  'oauth_artifacts',
  'oauth_consents',
  'revocations',
  'vault_secrets',
  'broker_leases',
  'approvals',
  'tool_pin_servers',
  'tool_pins',
  'connections',
  'connection_requests',
] as const;

/** PostgreSQL columns whose SQLite counterpart is named differently. */
const RENAMED: Record<string, Record<string, string>> = {
  // Kept as JSON strings in PostgreSQL so U+0000 (which PostgreSQL text cannot hold) survives.
  approvals: { reason_json: 'reason', note_json: 'note' },
};
const AS_JSON = new Set(['approvals.reason_json', 'approvals.note_json']);

export interface TableCopy {
  table: string;
  sqlite: number;
  postgres: number;
}

export interface MigrationReport {
  ok: boolean;
  tables: TableCopy[];
  audit: AuditVerification;
  /** The last record's hash in SQLite, and in PostgreSQL after the copy: the same chain. */
  sqliteHead: string | undefined;
  postgresHead: string | undefined;
  problems: string[];
}

export class TargetNotEmptyError extends Error {}

interface PgColumn {
  column_name: string;
  data_type: string;
  is_identity: string;
  identity_generation: string | null;
}

function coerce(value: unknown, dataType: string): unknown {
  if (value === null || value === undefined) return null;
  if (dataType === 'boolean') return Boolean(value);
  if (dataType === 'bytea') return Buffer.from(value as Uint8Array);
  if (dataType === 'bigint' || dataType === 'integer') return Number(value);
  return value;
}

const BATCH = 200;

async function copyTable(client: PoolClient, sqlite: DatabaseSync, table: string): Promise<number> {
  const pgColumns = (
    await client.query<PgColumn>(
      `SELECT column_name, data_type, is_identity, identity_generation FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    )
  ).rows;
  const sqliteColumns = new Set((sqlite.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  const renamed = RENAMED[table] ?? {};
  const columns = pgColumns.filter(
    (c) => sqliteColumns.has(renamed[c.column_name] ?? c.column_name) || (table === 'audit_records' && (c.column_name === 'sub' || c.column_name === 'tool')),
  );
  const overriding = columns.some((c) => c.identity_generation === 'ALWAYS') ? ' OVERRIDING SYSTEM VALUE' : '';
  const names = columns.map((c) => c.column_name);
  // rowid order: identity columns PostgreSQL assigns (approval and pin order) follow SQLite's.
  const rows = sqlite.prepare(`SELECT * FROM ${table} ORDER BY rowid`).iterate() as Iterable<Record<string, unknown>>;
  let copied = 0;
  let batch: unknown[][] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const params: unknown[] = [];
    const tuples = batch.map((values) => `(${values.map((v) => `$${params.push(v)}`).join(', ')})`);
    await client.query(`INSERT INTO ${table} (${names.join(', ')})${overriding} VALUES ${tuples.join(', ')}`, params);
    copied += batch.length;
    batch = [];
  };
  for (const row of rows) {
    const indexed = table === 'audit_records' ? auditIndexedFields(String(row.body)) : undefined;
    batch.push(
      columns.map((c) => {
        if (indexed && (c.column_name === 'sub' || c.column_name === 'tool')) return indexed[c.column_name];
        const value = row[renamed[c.column_name] ?? c.column_name];
        if (AS_JSON.has(`${table}.${c.column_name}`)) return value === null || value === undefined ? null : JSON.stringify(value);
        return coerce(value, c.data_type);
      }),
    );
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  // Identity sequences continue after the copied ids.
  for (const c of columns.filter((col) => col.is_identity === 'YES')) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT max(${c.column_name}) FROM ${table}), 1), (SELECT count(*) > 0 FROM ${table}))`,
      [table, c.column_name],
    );
  }
  return copied;
}

/**
 * Copies a SQLite data dir into an empty PostgreSQL store in one transaction (all or
 * nothing), then verifies: row counts per table, the audit chain recomputed from PostgreSQL
 * (hashes are copied, never recomputed, so an intact chain proves the copy), and the same head.
 * Sealed vault entries are copied as sealed bytes: the master key never takes part.
 */
export async function copySqliteToPostgres(dataDir: string, target: PostgresStorage): Promise<MigrationReport> {
  // Opening applies any pending SQLite migrations, so the source has the current schema.
  await SqliteStorage.open(dataDir).close();
  const sqlite = new DatabaseSync(path.join(dataDir, DATABASE_FILE), { readOnly: true });
  try {
    const occupied: string[] = [];
    for (const table of COPIED_TABLES) {
      const row = await target.db.row<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      if ((row?.n ?? 0) > 0) occupied.push(`${table} (${row?.n} rows)`);
    }
    if (occupied.length > 0) throw new TargetNotEmptyError(`the PostgreSQL database is not empty: ${occupied.join(', ')}. Migrate into a new, empty database.`);
    const tables: TableCopy[] = [];
    await target.db.transaction(async (client) => {
      for (const table of COPIED_TABLES) {
        const sqliteCount = (sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
        await copyTable(client, sqlite, table);
        const pgCount = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? 0;
        tables.push({ table, sqlite: Number(sqliteCount), postgres: pgCount });
      }
    });
    const problems = tables.filter((t) => t.sqlite !== t.postgres).map((t) => `${t.table}: ${t.sqlite} rows in SQLite, ${t.postgres} in PostgreSQL`);
    const audit = await verifyAuditLog(target.audit, target.signingKeys);
    if (!audit.ok) problems.push(`audit verify failed at record #${audit.brokenSeq}: ${audit.reason}`);
    const sqliteHead = (sqlite.prepare('SELECT hash FROM audit_records ORDER BY seq DESC LIMIT 1').get() as { hash: string } | undefined)?.hash;
    const postgresHead = (await target.db.row<{ hash: string }>('SELECT hash FROM audit_records ORDER BY seq DESC LIMIT 1'))?.hash;
    if (sqliteHead !== postgresHead) problems.push(`audit head differs: SQLite ${sqliteHead ?? 'none'}, PostgreSQL ${postgresHead ?? 'none'}`);
    return { ok: problems.length === 0, tables, audit, sqliteHead, postgresHead, problems };
  } finally {
    sqlite.close();
  }
}
