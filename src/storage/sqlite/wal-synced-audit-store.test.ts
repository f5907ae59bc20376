import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { linkRecord } from '../../audit/chain.js';
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
});
