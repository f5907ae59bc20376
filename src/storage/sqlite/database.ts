import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { MIGRATIONS } from './migrations/index.js';

export const DATABASE_FILE = 'gatehouse.db';

export interface OpenOptions {
  /** Milliseconds to wait for another process's write lock (CLI and gateway share the file). */
  busyTimeoutMs?: number;
  readOnly?: boolean;
  /**
   * `FULL` (default): every commit is fsynced before it returns. `NORMAL`: commits reach the
   * WAL without an fsync; the caller makes them durable itself (see WalSyncedAuditStore).
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/**
 * A node:sqlite connection with Gatehouse's pragmas and a prepared-statement cache. WAL lets
 * CLI processes read and write while the gateway runs; synchronous=FULL makes every commit
 * durable, which the audit log's write-ahead intent relies on.
 */
export class SqliteDatabase {
  readonly db: DatabaseSync;
  readonly file: string;
  /** The configured wait for another connection's write lock (ms). */
  busyTimeoutMs = 5000;
  #statements = new Map<string, StatementSync>();
  #dataVersion: number;
  #dataVersionStmt: StatementSync;

  private constructor(db: DatabaseSync, file: string) {
    this.db = db;
    this.file = file;
    this.#dataVersionStmt = db.prepare('PRAGMA data_version');
    this.#dataVersion = this.#readDataVersion();
  }

  #changeCounter = -1;

  static open(dataDir: string, options: OpenOptions = {}): SqliteDatabase {
    if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(dataDir, DATABASE_FILE);
    const isNew = !existsSync(file);
    const db = new DatabaseSync(file, { readOnly: options.readOnly ?? false });
    if (isNew && !options.readOnly) chmodSync(file, 0o600);
    const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    if (!options.readOnly) {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'FULL'}`);
    }
    db.exec('PRAGMA foreign_keys = ON');
    const wrapper = new SqliteDatabase(db, file);
    wrapper.busyTimeoutMs = busyTimeoutMs;
    if (!options.readOnly) wrapper.migrate();
    wrapper.#changeCounter = wrapper.#readChangeCounter();
    return wrapper;
  }

  statement(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs `fn` inside BEGIN IMMEDIATE … COMMIT (rolled back if it throws). */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }

  migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT');
    const applied = new Set((this.db.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((row) => row.id));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.id)) continue;
      this.transaction(() => {
        // Another process may have applied it while we waited for the lock.
        const done = this.db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?').get(migration.id);
        if (done) return;
        this.db.exec(migration.sql);
        this.db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)').run(migration.id, Date.now());
      });
    }
  }

  #readDataVersion(): number {
    return (this.#dataVersionStmt.get() as { data_version: number }).data_version;
  }

  /** True if another connection committed since the previous call (PRAGMA data_version). */
  /**
   * True if another connection changed cached state since the previous call. data_version is
   * the cheap filter (no commit anywhere: nothing to do); the change counter, moved by triggers
   * on the watched tables only, tells a user or revocation change from an audit commit.
   */
  externalChanges(): boolean {
    const version = this.#readDataVersion();
    if (version === this.#dataVersion) return false;
    this.#dataVersion = version;
    const counter = this.#readChangeCounter();
    if (counter === this.#changeCounter) return false;
    this.#changeCounter = counter;
    return true;
  }

  #readChangeCounter(): number {
    try {
      const row = this.statement('SELECT value FROM change_counter WHERE id = 1').get() as { value: number } | undefined;
      return row?.value ?? 0;
    } catch {
      // Not migrated (a read-only open of an old file): every commit counts as a change.
      return this.#dataVersion;
    }
  }

  close(): void {
    this.#statements.clear();
    if (this.db.isOpen) this.db.close();
  }
}
