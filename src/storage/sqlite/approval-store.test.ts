import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../ports/index.js';
import { SqliteStorage } from './index.js';

const record = (over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  id: `apr_${Math.random().toString(36).slice(2)}`,
  status: 'pending',
  level: 'four-eyes',
  requester: { sub: 'alice', groups: ['eng'] },
  server: 'db',
  target: 'db__delete_rows',
  method: 'tools/call',
  args: { table: 't' },
  argsHash: 'sha256:aaa',
  createdAt: 1000,
  expiresAt: 10_000,
  breakGlass: false,
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

  it('keeps one open request per exact call: a retry joins it', async () => {
    const first = await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    const again = await storage.approvals.createOrGetPending(record({ id: 'apr_2' }));
    expect(first).toMatchObject({ created: true, record: { id: 'apr_1', status: 'pending', args: { table: 't' }, requester: { sub: 'alice', groups: ['eng'] } } });
    expect(again).toMatchObject({ created: false, record: { id: 'apr_1' } });
    // Other arguments, another user: separate requests.
    expect((await storage.approvals.createOrGetPending(record({ id: 'apr_3', argsHash: 'sha256:bbb' }))).created).toBe(true);
    expect((await storage.approvals.createOrGetPending(record({ id: 'apr_4', requester: { sub: 'bob', groups: [] } }))).created).toBe(true);
    // An expired pending request does not block a new one.
    expect(await storage.approvals.createOrGetPending(record({ id: 'apr_5', createdAt: 20_000, expiresAt: 30_000 }))).toMatchObject({ created: true, record: { id: 'apr_5' } });
    expect((await storage.approvals.get('apr_1'))?.status).toBe('expired');
  });

  it('decides only a pending, unexpired request, once', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    const decision = { status: 'approved' as const, by: 'carol', via: 'cli' as const, breakGlass: false, at: 2000 };
    expect(await storage.approvals.decide('apr_1', decision)).toBe(true);
    expect(await storage.approvals.decide('apr_1', { ...decision, status: 'denied', by: 'dave' })).toBe(false);
    expect(await storage.approvals.get('apr_1')).toMatchObject({ status: 'approved', decidedBy: 'carol', decidedVia: 'cli', decidedAt: 2000 });
    await storage.approvals.createOrGetPending(record({ id: 'apr_2', argsHash: 'sha256:b' }));
    expect(await storage.approvals.decide('apr_2', { ...decision, at: 10_000 })).toBe(false); // at expiry
  });

  it('lets exactly one of many concurrent uses win, even across connections', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    await storage.approvals.decide('apr_1', { status: 'approved', by: 'carol', via: 'cli', breakGlass: false, at: 2000 });
    const other = SqliteStorage.open(dir);
    try {
      const results = await Promise.all([
        storage.approvals.consume('apr_1', 'r1', 3000),
        other.approvals.consume('apr_1', 'r2', 3000),
        storage.approvals.consume('apr_1', 'r3', 3000),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await other.close();
    }
    expect(await storage.approvals.get('apr_1')).toMatchObject({ status: 'used', usedBy: 'r1' });
    expect(await storage.approvals.findUsable('alice', 'db__delete_rows', 'sha256:aaa', 3000)).toBeUndefined();
  });

  it('finds a usable approval only for the same user, target and arguments, before expiry', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    await storage.approvals.decide('apr_1', { status: 'approved', by: 'carol', via: 'cli', breakGlass: false, at: 2000 });
    expect((await storage.approvals.findUsable('alice', 'db__delete_rows', 'sha256:aaa', 3000))?.id).toBe('apr_1');
    expect(await storage.approvals.findUsable('alice', 'db__delete_rows', 'sha256:zzz', 3000)).toBeUndefined();
    expect(await storage.approvals.findUsable('mallory', 'db__delete_rows', 'sha256:aaa', 3000)).toBeUndefined();
    expect(await storage.approvals.findUsable('alice', 'db__delete_rows', 'sha256:aaa', 10_000)).toBeUndefined();
    expect(await storage.approvals.consume('apr_1', 'late', 10_000)).toBe(false);
  });

  it('lists by status and requester, newest first', async () => {
    await storage.approvals.createOrGetPending(record({ id: 'apr_1', createdAt: 1000 }));
    await storage.approvals.createOrGetPending(record({ id: 'apr_2', createdAt: 2000, argsHash: 'sha256:b' }));
    await storage.approvals.decide('apr_1', { status: 'denied', by: 'carol', via: 'cli', breakGlass: false, at: 3000 });
    expect((await storage.approvals.list({ status: ['pending'] })).map((r) => r.id)).toEqual(['apr_2']);
    expect((await storage.approvals.list({ requester: 'alice' })).map((r) => r.id)).toEqual(['apr_2', 'apr_1']);
  });
});
