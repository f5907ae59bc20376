// The storage implementations the contract suite (src/storage/contract) runs against: embedded
// SQLite in a temp dir, and PostgreSQL in a fresh database on the throwaway cluster the test
// project's globalSetup started. A "node" is one Storage instance; `another()` opens a second
// one on the same store (another process on SQLite, another gateway node on PostgreSQL).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import type { Storage } from '../../src/storage/index.js';
import { PostgresStorage, type PostgresStorageOptions } from '../../src/storage/postgres/index.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import type { PostgresConnectionInfo } from './postgres-cluster.ts';

export interface StoreUnderTest {
  storage: Storage;
  /** Another node (process) on the same store. Closed by cleanup. */
  another(options?: PostgresStorageOptions): Promise<Storage>;
  /** Runs SQL directly against the store, as an outside writer would (psql, the sqlite3 shell). */
  exec(sql: string): Promise<void>;
  /** Reads rows directly from the store (what someone holding a copy of the database sees). */
  rows(sql: string): Promise<Record<string, unknown>[]>;
  cleanup(): Promise<void>;
}

export interface StorageBackend {
  name: 'sqlite' | 'postgres';
  open(options?: PostgresStorageOptions): Promise<StoreUnderTest>;
}

export const sqliteBackend: StorageBackend = {
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-contract-'));
    const opened: SqliteStorage[] = [SqliteStorage.open(dir)];
    const storage = opened[0] as SqliteStorage;
    return {
      storage,
      async another() {
        const other = SqliteStorage.open(dir);
        opened.push(other);
        return other;
      },
      async exec(sql) {
        storage.sql.db.exec(sql);
      },
      async rows(sql) {
        return storage.sql.db.prepare(sql).all() as Record<string, unknown>[];
      },
      async cleanup() {
        for (const s of opened) await s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** The cluster the globalSetup started; a clear failure (never a skip) when there is none. */
export function postgresInfo(): PostgresConnectionInfo {
  const info = inject('postgres');
  if (!info)
    throw new Error('PostgreSQL storage tests need the throwaway cluster from test/setup/postgres.ts (run them in the vitest project that sets it up)');
  return info;
}

/** A fresh, empty database on the test cluster; `drop` removes it (closing any session left). */
export async function createDatabase(label = 'store'): Promise<{ config: pg.ClientConfig; name: string; drop(): Promise<void> }> {
  const info = postgresInfo();
  const name = `gh_${label}_${randomBytes(5).toString('hex')}`;
  const root = new pg.Client({ ...info, database: 'postgres' });
  await root.connect();
  try {
    await root.query(`CREATE DATABASE ${name}`);
  } finally {
    await root.end();
  }
  return {
    name,
    config: { ...info, database: name },
    async drop() {
      const admin = new pg.Client({ ...info, database: 'postgres' });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

export const postgresBackend: StorageBackend = {
  name: 'postgres',
  async open(options = {}) {
    const database = await createDatabase();
    const opened: PostgresStorage[] = [];
    const open = async (o: PostgresStorageOptions) => {
      const s = await PostgresStorage.open({ ...database.config, max: 4 }, o);
      opened.push(s);
      return s;
    };
    const storage = await open(options);
    const rows = async (sql: string) => {
      const client = new pg.Client(database.config);
      await client.connect();
      try {
        return (await client.query(sql)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    };
    return {
      storage,
      another: (o = {}) => open(o),
      async exec(sql) {
        await rows(sql);
      },
      rows,
      async cleanup() {
        for (const s of opened) await s.close();
        await database.drop();
      },
    };
  },
};

export const BACKENDS: readonly StorageBackend[] = [sqliteBackend, postgresBackend];

/**
 * Waits (bounded) until `storage.externalChanges()` reports true. On SQLite that is at once; on
 * PostgreSQL the notification arrives asynchronously, a few milliseconds after the commit.
 */
export async function changeSeen(storage: Storage, timeoutMs = 3000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (storage.externalChanges()) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
}
