import { open, type FileHandle } from 'node:fs/promises';
import type { AuditLinker, AuditQuery, AuditStore, NewAuditEntry, StoredAuditRecord, StoredCheckpoint } from '../ports/index.js';
import { SqliteAuditStore } from './audit-store.js';
import { SqliteDatabase } from './database.js';

/**
 * How far an audit commit goes before the appender continues (`audit.sync`):
 * - `fsync`: the WAL is fdatasynced; the records survive a power loss.
 * - `os`: the frames are written to the WAL (the operating system holds them); the records
 *   survive the gateway being killed, but a power loss or kernel crash can lose the commits
 *   the OS had not written back yet (Linux: up to about 30 s by default).
 */
export type AuditSync = 'fsync' | 'os';

/**
 * Audit appends whose fsync never blocks the event loop, without a second V8 isolate.
 *
 * Batches are committed on a dedicated connection with `synchronous = NORMAL`: SQLite writes
 * the frames to the WAL and returns without an fsync (tens of microseconds). The store then
 * fdatasyncs the WAL file through libuv's thread pool, and only after that resolves does the
 * append — so a durable intent still means "on disk" before anything downstream runs, while
 * the event loop keeps serving. fsync works per file, not per descriptor: it flushes every
 * frame written before it, by any connection. Reads use the caller's connection.
 */
export class WalSyncedAuditStore implements AuditStore {
  readonly #writer: SqliteDatabase;
  readonly #store: SqliteAuditStore;
  #wal: Promise<FileHandle> | undefined;

  constructor(
    dataDir: string,
    private readonly reader: SqliteAuditStore,
    private readonly sync: AuditSync = 'fsync',
  ) {
    this.#writer = SqliteDatabase.open(dataDir, { synchronous: 'NORMAL' });
    this.#store = new SqliteAuditStore(this.#writer);
  }

  async appendChained(entries: readonly NewAuditEntry[], link: AuditLinker): Promise<StoredAuditRecord[]> {
    const stored = await this.#store.appendChained(entries, link);
    await this.#sync();
    return stored;
  }

  async addCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    await this.#store.addCheckpoint(checkpoint);
    await this.#sync();
  }

  async #sync(): Promise<void> {
    // `os`: the commit above already wrote the frames to the WAL file (write(2) returned).
    if (this.sync === 'os') return;
    this.#wal ??= open(`${this.#writer.file}-wal`, 'r');
    try {
      await (await this.#wal).datasync();
    } catch (error) {
      // The WAL file is recreated only when every connection has closed; a stale handle is
      // reopened once, anything else is a failed write (the audit log then refuses calls).
      this.#wal = undefined;
      if ((error as NodeJS.ErrnoException).code !== 'EBADF' && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.#wal = open(`${this.#writer.file}-wal`, 'r');
      await (await this.#wal).datasync();
    }
  }

  head() {
    return this.reader.head();
  }
  scan(fromSeq: number, limit: number) {
    return this.reader.scan(fromSeq, limit);
  }
  query(filter: AuditQuery) {
    return this.reader.query(filter);
  }
  checkpoints() {
    return this.reader.checkpoints();
  }
  count() {
    return this.reader.count();
  }

  async close(): Promise<void> {
    const wal = this.#wal;
    this.#wal = undefined;
    if (wal) await (await wal).close().catch(() => undefined);
    this.#writer.close();
  }
}
