import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, type StoreUnderTest } from '../../../test/helpers/storage-backends.js';
import type { ApprovalDecision, ApprovalRecord, Storage } from '../ports/index.js';

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

describe.each(BACKENDS)('ApprovalStore ($name)', (backend) => {
  let store: StoreUnderTest;
  let storage: Storage;
  beforeEach(async () => {
    store = await backend.open();
    storage = store.storage;
  });
  afterEach(async () => store.cleanup());

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
    const other = await store.another();
    const results = await Promise.all([
      storage.approvals.consume('apr_1', 'r1', 3000, 'claude-code'),
      other.approvals.consume('apr_1', 'r2', 3000, 'claude-code'),
      storage.approvals.consume('apr_1', 'r3', 3000, 'claude-code'),
      other.approvals.consume('apr_1', 'r4', 3000, 'claude-code'),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = `r${results.indexOf(true) + 1}`;
    expect(await storage.approvals.get('apr_1')).toMatchObject({ status: 'used', usedBy: winner });
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

  it('files one request when many nodes ask for the same call at once: every caller gets that one', async () => {
    const other = await store.another();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? storage : other).approvals.createOrGetPending(record({ id: `apr_race_${i}` }))),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const winner = results.find((r) => r.created)?.record.id;
    expect(new Set(results.map((r) => r.record.id))).toEqual(new Set([winner]));
    expect(await storage.approvals.list({ status: ['pending'] })).toHaveLength(1);
  });

  it('decides once when two nodes decide the same request at once', async () => {
    const other = await store.another();
    await storage.approvals.createOrGetPending(record({ id: 'apr_1' }));
    const [a, b] = await Promise.all([
      storage.approvals.decide('apr_1', approve),
      other.approvals.decide('apr_1', { ...approve, status: 'denied', by: 'dave' }),
    ]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect((await other.approvals.get('apr_1'))?.status).toBe(a ? 'approved' : 'denied');
  });

  it('keeps untrusted text (quotes, SQL, unicode) exactly as given', async () => {
    const reason = `'); DROP TABLE approvals; -- “quoted” ✓ \u0000 ${'x'.repeat(2000)}`;
    await storage.approvals.createOrGetPending(record({ id: 'apr_1', reason, policy: 'p"1' }));
    expect(await storage.approvals.get('apr_1')).toMatchObject({ reason, policy: 'p"1' });
    expect(await storage.approvals.list({})).toHaveLength(1);
  });
});
