import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { linkRecord } from '../../audit/chain.js';
import { SqliteDatabase } from './database.js';
import { SqliteStorage } from './index.js';

describe('WalSyncedAuditStore', () => {
  let storage: SqliteStorage;

  beforeEach(() => {
    storage = SqliteStorage.open(mkdtempSync(path.join(tmpdir(), 'gh-walsync-')), { asyncAuditSync: true });
  });
  afterEach(() => storage.close());

  it('resolves an append only after the WAL was fdatasynced, and the rows are readable', async () => {
    const { FileHandle } = await import('node:fs/promises').then(async (fs) => ({
      FileHandle: Object.getPrototypeOf(await fs.open(process.execPath, 'r')) as { datasync(): Promise<void> },
    }));
    const datasync = vi.spyOn(FileHandle, 'datasync');
    const stored = await storage.audit.appendChained(
      [
        { ts: 1, kind: 'call.intent', body: '{"n":1}' },
        { ts: 2, kind: 'call.result', body: '{"n":2}' },
      ],
      linkRecord,
    );
    expect(datasync).toHaveBeenCalledTimes(1);
    expect(stored.map((r) => r.seq)).toEqual([1, 2]);
    expect(await storage.audit.count()).toBe(2);
    datasync.mockRestore();
  });

  it('chains across batches like the synchronous store', async () => {
    const [a] = await storage.audit.appendChained([{ ts: 1, kind: 'k', body: '{}' }], linkRecord);
    const [b] = await storage.audit.appendChained([{ ts: 2, kind: 'k', body: '{}' }], linkRecord);
    expect(b?.prevHash).toBe(a?.hash);
    expect(await storage.audit.head()).toEqual({ seq: 2, hash: b?.hash });
  });

  it('refuses to resolve when the commit fails (the audit log then fails closed)', async () => {
    storage.sql.db.exec("CREATE TRIGGER no_writes BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
    await expect(storage.audit.appendChained([{ ts: 1, kind: 'k', body: '{}' }], linkRecord)).rejects.toThrow(/disk full/);
    expect(await storage.audit.count()).toBe(0);
  });

  describe('audit.sync: os', () => {
    it('resolves an append without an fdatasync, and the records are already in the WAL file another process would open', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'gh-walsync-os-'));
      const os = SqliteStorage.open(dir, { asyncAuditSync: true, auditSync: 'os' });
      const { FileHandle } = await import('node:fs/promises').then(async (fs) => ({
        FileHandle: Object.getPrototypeOf(await fs.open(process.execPath, 'r')) as { datasync(): Promise<void> },
      }));
      const datasync = vi.spyOn(FileHandle, 'datasync');
      try {
        const stored = await os.audit.appendChained(
          [
            { ts: 1, kind: 'call.intent', body: '{"n":1}' },
            { ts: 2, kind: 'call.result', body: '{"n":2}' },
          ],
          linkRecord,
        );
        expect(datasync).not.toHaveBeenCalled();
        expect(stored.map((r) => r.seq)).toEqual([1, 2]);
        // A second, independent connection (as after the gateway was killed without closing
        // anything) reads both records: they left this process when the append resolved.
        const other = SqliteDatabase.open(dir);
        try {
          const rows = other.db.prepare('SELECT seq, kind FROM audit_records ORDER BY seq').all();
          expect(rows).toEqual([
            { seq: 1, kind: 'call.intent' },
            { seq: 2, kind: 'call.result' },
          ]);
        } finally {
          other.close();
        }
      } finally {
        datasync.mockRestore();
        await os.close();
      }
    });

    it('still fails closed when the commit fails', async () => {
      const os = SqliteStorage.open(mkdtempSync(path.join(tmpdir(), 'gh-walsync-os-')), { asyncAuditSync: true, auditSync: 'os' });
      try {
        os.sql.db.exec("CREATE TRIGGER no_writes BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
        await expect(os.audit.appendChained([{ ts: 1, kind: 'k', body: '{}' }], linkRecord)).rejects.toThrow(/disk full/);
        expect(await os.audit.count()).toBe(0);
      } finally {
        await os.close();
      }
    });
  });
});
