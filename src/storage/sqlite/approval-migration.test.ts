import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../ports/index.js';
import { DATABASE_FILE, SqliteStorage } from './index.js';
import { MIGRATIONS } from './migrations/index.js';

const record = (over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  id: `apr_${Math.random().toString(36).slice(2)}`,
  status: 'pending',
  level: 'four-eyes',
  requester: { sub: 'alice', groups: ['eng'], client: 'claude-code' },
  server: 'db',
  target: 'db__delete_rows',
  method: 'tools/call',
  args: { o: [['table', 't']] },
  argsFormat: 'exact-v1',
  argsMasked: false,
  argsHash: 'sha256:aaa',
  createdAt: 1000,
  expiresAt: 10_000,
  breakGlass: false,
  anyClient: false,
  ...over,
});
describe('migration 0006-approval-client', () => {
  it('binds requests filed before it to their recorded client and marks their arguments as the redacted copy they are', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-apr-mig-'));
    const db = new DatabaseSync(path.join(dir, DATABASE_FILE));
    db.exec('CREATE TABLE schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT');
    for (const m of MIGRATIONS.filter((m) => m.id < '0006')) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, 0)').run(m.id);
    }
    const insert = db.prepare(
      `INSERT INTO approvals (id, status, level, requester, requester_json, server, target, method, args_json, args_hash, created_at, expires_at, decided_at, decided_by, decided_via)
       VALUES (?, ?, 'four-eyes', 'alice', ?, 'db', 'db__drop', 'tools/call', '{"table":"[REDACTED]"}', 'sha256:old', 1000, ?, ?, ?, ?)`,
    );
    insert.run('apr_old', 'approved', JSON.stringify({ sub: 'alice', groups: [], client: 'claude-code' }), 9e15, 2000, 'carol', 'cli');
    insert.run('apr_noclient', 'pending', JSON.stringify({ sub: 'alice', groups: [] }), 9e15, null, null, null);
    db.close();

    const storage = SqliteStorage.open(dir);
    try {
      expect(await storage.approvals.get('apr_old')).toMatchObject({
        argsFormat: 'redacted',
        argsMasked: false,
        anyClient: false,
        args: { table: '[REDACTED]' },
      });
      const old = { sub: 'alice', target: 'db__drop', argsHash: 'sha256:old' };
      expect((await storage.approvals.findUsable({ ...old, client: 'claude-code' }, 3000))?.id).toBe('apr_old');
      expect(await storage.approvals.findUsable({ ...old, client: 'cursor' }, 3000)).toBeUndefined();
      // The old pending request (no client) still holds its slot for calls without a client.
      const again = await storage.approvals.createOrGetPending(
        record({ id: 'apr_new', requester: { sub: 'alice', groups: [] }, target: 'db__drop', argsHash: 'sha256:old', expiresAt: 9e15 }),
      );
      expect(again).toMatchObject({ created: false, record: { id: 'apr_noclient' } });
    } finally {
      await storage.close();
    }
  });
});
