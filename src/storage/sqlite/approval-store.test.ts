import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalDecision, ApprovalRecord } from '../ports/index.js';
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
const approve: ApprovalDecision = { status: 'approved', by: 'carol', via: 'cli', breakGlass: false, anyClient: false, at: 2000 };
const call = (over: Partial<{ sub: string; client: string | undefined; target: string; argsHash: string }> = {}) => ({
  sub: 'alice',
  client: 'claude-code',
  target: 'db__delete_rows',
  argsHash: 'sha256:aaa',
  ...over,
});

describe('SqliteApprovalStore', () => {
  let dir: string;
  let storage: SqliteStorage;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-apr-'));
    storage = SqliteStorage.open(dir);
  });
  afterEach(async () => storage.close());

  it('keeps one open request per exact call from one client: a retry joins it', async () => {
    const first = await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    const again = await storage.approvals.createOrGetPending(record({ id: 'apr_2' }));
    expect(first).toMatchObject({
      created: true,
      record: {
        id: 'apr_1',
        status: 'pending',
        args: { o: [['table', 't']] },
        argsFormat: 'exact-v1',
        argsMasked: false,
        anyClient: false,
        requester: { sub: 'alice', groups: ['eng'], client: 'claude-code' },
      },
    });
    expect(again).toMatchObject({ created: false, record: { id: 'apr_1' } });
    // Other arguments, another user, another client of the same user: separate requests.
    expect((await storage.approvals.createOrGetPending(record({ id: 'apr_3', argsHash: 'sha256:bbb' }))).created).toBe(true);
    expect((await storage.approvals.createOrGetPending(record({ id: 'apr_4', requester: { sub: 'bob', groups: [] } }))).created).toBe(true);
    expect((await storage.approvals.createOrGetPending(record({ id: 'apr_6', requester: { sub: 'alice', groups: ['eng'], client: 'cursor' } }))).created).toBe(
      true,
    );
    // An expired pending request does not block a new one.
    expect(await storage.approvals.createOrGetPending(record({ id: 'apr_5', createdAt: 20_000, expiresAt: 30_000 }))).toMatchObject({
      created: true,
      record: { id: 'apr_5' },
    });
    expect((await storage.approvals.get('apr_1'))?.status).toBe('expired');
  });

  it('keeps arguments objects with `__proto__` and masks exactly as written', async () => {
    const args = {
      o: [
        ['__proto__', { o: [['isAdmin', true]] }],
        ['dsn', { m: ['postgres://u:', { r: 'vault' }, '@db'] }],
      ],
    };
    await storage.approvals.createOrGetPending(record({ id: 'apr_1', args, argsMasked: true }));
    expect(await storage.approvals.get('apr_1')).toMatchObject({ args, argsMasked: true, argsFormat: 'exact-v1' });
  });

  it('decides only a pending, unexpired request, once', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    expect(await storage.approvals.decide('apr_1', approve)).toBe(true);
    expect(await storage.approvals.decide('apr_1', { ...approve, status: 'denied', by: 'dave' })).toBe(false);
    expect(await storage.approvals.get('apr_1')).toMatchObject({ status: 'approved', decidedBy: 'carol', decidedVia: 'cli', decidedAt: 2000 });
    await storage.approvals.createOrGetPending(record({ id: 'apr_2', argsHash: 'sha256:b' }));
    expect(await storage.approvals.decide('apr_2', { ...approve, at: 10_000 })).toBe(false); // at expiry
  });

  it('lets exactly one of many concurrent uses win, even across connections', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    await storage.approvals.decide('apr_1', approve);
    const other = SqliteStorage.open(dir);
    try {
      const results = await Promise.all([
        storage.approvals.consume('apr_1', 'r1', 3000, 'claude-code'),
        other.approvals.consume('apr_1', 'r2', 3000, 'claude-code'),
        storage.approvals.consume('apr_1', 'r3', 3000, 'claude-code'),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await other.close();
    }
    expect(await storage.approvals.get('apr_1')).toMatchObject({ status: 'used', usedBy: 'r1' });
    expect(await storage.approvals.findUsable(call(), 3000)).toBeUndefined();
  });

  it('finds a usable approval only for the same user, client, target and arguments, before expiry', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    await storage.approvals.decide('apr_1', approve);
    expect((await storage.approvals.findUsable(call(), 3000))?.id).toBe('apr_1');
    expect(await storage.approvals.findUsable(call({ argsHash: 'sha256:zzz' }), 3000)).toBeUndefined();
    expect(await storage.approvals.findUsable(call({ sub: 'mallory' }), 3000)).toBeUndefined();
    expect(await storage.approvals.findUsable(call({ client: 'cursor' }), 3000)).toBeUndefined();
    expect(await storage.approvals.findUsable(call({ client: undefined }), 3000)).toBeUndefined();
    expect(await storage.approvals.findUsable(call(), 10_000)).toBeUndefined();
    expect(await storage.approvals.consume('apr_1', 'late', 10_000, 'claude-code')).toBe(false);
    // Another client cannot use it either, even knowing its id: the binding is in the compare-and-set.
    expect(await storage.approvals.consume('apr_1', 'other', 3000, 'cursor')).toBe(false);
    expect(await storage.approvals.consume('apr_1', 'none', 3000, undefined)).toBe(false);
    expect((await storage.approvals.get('apr_1'))?.status).toBe('approved');
    // The latest request of the user for this call is found from any client (to say why it does not count).
    expect((await storage.approvals.latest(call({ client: 'cursor' })))?.id).toBe('apr_1');
  });

  it('an approval for any client of the user is usable from every client of that user, once', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    await storage.approvals.decide('apr_1', { ...approve, anyClient: true });
    expect(await storage.approvals.get('apr_1')).toMatchObject({ anyClient: true });
    expect((await storage.approvals.findUsable(call({ client: 'cursor' }), 3000))?.id).toBe('apr_1');
    expect(await storage.approvals.findUsable(call({ sub: 'bob', client: 'cursor' }), 3000)).toBeUndefined();
    expect(await storage.approvals.consume('apr_1', 'r1', 3000, 'cursor')).toBe(true);
    expect(await storage.approvals.consume('apr_1', 'r2', 3000, 'claude-code')).toBe(false);
  });

  it('records any-client only with an approval', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    await storage.approvals.decide('apr_1', { ...approve, status: 'denied', anyClient: true });
    expect(await storage.approvals.get('apr_1')).toMatchObject({ status: 'denied', anyClient: false });
  });

  it('binds calls without a client id to requests without one', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1', requester: { sub: 'alice', groups: [] } }));
    expect((await storage.approvals.createOrGetPending(record({ id: 'apr_2', requester: { sub: 'alice', groups: [] } }))).created).toBe(false);
    await storage.approvals.decide('apr_1', approve);
    expect((await storage.approvals.findUsable(call({ client: undefined }), 3000))?.id).toBe('apr_1');
    expect(await storage.approvals.findUsable(call(), 3000)).toBeUndefined();
  });

  it('lists by status and requester, newest first', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1', createdAt: 1000 }));
    await storage.approvals.createOrGetPending(record({ id: 'apr_2', createdAt: 2000, argsHash: 'sha256:b' }));
    await storage.approvals.decide('apr_1', { ...approve, status: 'denied', at: 3000 });
    expect((await storage.approvals.list({ status: ['pending'] })).map((r) => r.id)).toEqual(['apr_2']);
    expect((await storage.approvals.list({ requester: 'alice' })).map((r) => r.id)).toEqual(['apr_2', 'apr_1']);
  });
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
