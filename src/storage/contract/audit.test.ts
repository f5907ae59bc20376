import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, type StoreUnderTest } from '../../../test/helpers/storage-backends.js';
import { AuditLog } from '../../audit/audit-log.js';
import { canonicalJson } from '../../audit/canonical-json.js';
import { GENESIS_HASH, linkRecord } from '../../audit/chain.js';
import { verifyAuditLog } from '../../audit/verify-log.js';
import { silentLogger } from '../../log/index.js';
import { KeyRing } from '../../tokens/key-ring.js';
import type { AuditLinker, Storage } from '../ports/index.js';

const entry = (n: number, body: Record<string, unknown> = { n }) => ({ ts: 1000 + n, kind: 'call.intent', body: JSON.stringify(body) });

async function auditLogOf(storage: Storage): Promise<AuditLog> {
  return new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
    checkpointEvery: 50,
    checkpointIntervalMs: 300_000,
  });
}

describe.each(BACKENDS)('AuditStore ($name)', (backend) => {
  let store: StoreUnderTest;
  let storage: Storage;

  beforeEach(async () => {
    store = await backend.open();
    storage = store.storage;
  });
  afterEach(async () => store.cleanup());

  it('starts at the genesis hash and chains across batches; head, scan and count agree', async () => {
    expect(await storage.audit.head()).toBeUndefined();
    expect(await storage.audit.count()).toBe(0);
    expect(await storage.audit.appendChained([], linkRecord)).toEqual([]);
    const first = await storage.audit.appendChained([entry(1), entry(2)], linkRecord);
    expect(first.map((r) => r.seq)).toEqual([1, 2]);
    expect(first[0]?.prevHash).toBe(GENESIS_HASH);
    expect(first[1]?.prevHash).toBe(first[0]?.hash);
    const [third] = await storage.audit.appendChained([entry(3)], linkRecord);
    expect(third).toMatchObject({ seq: 3, prevHash: first[1]?.hash });
    expect(await storage.audit.head()).toEqual({ seq: 3, hash: third?.hash });
    expect(await storage.audit.count()).toBe(3);
    expect(await storage.audit.scan(2, 10)).toEqual([first[1], third]);
    expect(await storage.audit.scan(1, 1)).toEqual([first[0]]);
    expect(await storage.audit.scan(4, 10)).toEqual([]);
  });

  it('keeps the body byte for byte (what the hash covers), whatever characters it holds', async () => {
    const body = canonicalJson({ s: 'quote " backslash \\ nul \u0000 emoji 😀 rtl \u202e', n: 1.5, deep: { a: [1, { b: null }] } });
    const [stored] = await storage.audit.appendChained([{ ts: 5, kind: 'call.result', body }], linkRecord);
    const [read] = await storage.audit.scan(1, 1);
    expect(read?.body).toBe(body);
    expect(read).toEqual(stored);
    expect(await verifyAuditLog(storage.audit, storage.signingKeys)).toMatchObject({ ok: true, records: 1 });
  });

  it('queries by time, kind, actor, tool and position', async () => {
    await storage.audit.appendChained(
      [
        { ts: 10, kind: 'call.intent', body: JSON.stringify({ actor: { sub: 'alice' }, target: { tool: 'db__query' } }) },
        { ts: 20, kind: 'call.result', body: JSON.stringify({ actor: { sub: 'alice' }, target: { tool: 'db__query' } }) },
        { ts: 30, kind: 'call.intent', body: JSON.stringify({ actor: { sub: 'bob' }, target: { tool: 'gh__issue' } }) },
        { ts: 40, kind: 'auth.failure', body: JSON.stringify({ actor: { sub: 'nul\u0000sub' } }) },
      ],
      linkRecord,
    );
    const seqs = async (filter: Parameters<Storage['audit']['query']>[0]) => (await storage.audit.query(filter)).map((r) => r.seq);
    expect(await seqs({})).toEqual([1, 2, 3, 4]);
    expect(await seqs({ since: 20, until: 30 })).toEqual([2, 3]);
    expect(await seqs({ kinds: ['call.intent', 'auth.failure'] })).toEqual([1, 3, 4]);
    expect(await seqs({ sub: 'alice' })).toEqual([1, 2]);
    expect(await seqs({ tool: 'gh__issue' })).toEqual([3]);
    expect(await seqs({ sub: "alice' OR '1'='1" })).toEqual([]);
    expect(await seqs({ afterSeq: 2, limit: 1 })).toEqual([3]);
  });

  it('keeps checkpoints once per seq, in order', async () => {
    await storage.audit.addCheckpoint({ seq: 5, ts: 1, hash: 'h5', kid: 'k', signature: 's5' });
    await storage.audit.addCheckpoint({ seq: 2, ts: 2, hash: 'h2', kid: 'k', signature: 's2' });
    await storage.audit.addCheckpoint({ seq: 5, ts: 3, hash: 'other', kid: 'k', signature: 'other' });
    expect(await storage.audit.checkpoints()).toEqual([
      { seq: 2, ts: 2, hash: 'h2', kid: 'k', signature: 's2' },
      { seq: 5, ts: 1, hash: 'h5', kid: 'k', signature: 's5' },
    ]);
  });

  it('commits nothing of a batch whose linker fails, and the chain goes on from the last commit', async () => {
    await storage.audit.appendChained([entry(1)], linkRecord);
    const failing: AuditLinker = (prev, seq, e) => {
      if (seq === 3) throw new Error('linker refused');
      return linkRecord(prev, seq, e);
    };
    await expect(storage.audit.appendChained([entry(2), entry(3)], failing)).rejects.toThrow('linker refused');
    expect(await storage.audit.count()).toBe(1);
    const [next] = await storage.audit.appendChained([entry(4)], linkRecord);
    expect(next?.seq).toBe(2);
    expect(await verifyAuditLog(storage.audit, storage.signingKeys)).toMatchObject({ ok: true, records: 2 });
  });

  it('gives each of many concurrent appends its own records, in one unbroken chain', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => storage.audit.appendChained([entry(i), entry(i + 100)], linkRecord)));
    for (const [i, records] of results.entries()) {
      expect(records.map((r) => JSON.parse(r.body).n)).toEqual([i, i + 100]);
      expect(records[1]?.seq).toBe((records[0]?.seq ?? 0) + 1);
    }
    expect(new Set(results.flat().map((r) => r.seq)).size).toBe(60);
    expect(await verifyAuditLog(storage.audit, storage.signingKeys)).toMatchObject({ ok: true, records: 60 });
  });

  it("two nodes appending concurrently through their audit logs: one chain, no duplicate seq, verify passes with both nodes' checkpoints", async () => {
    const other = await store.another();
    const [logA, logB] = [await auditLogOf(storage), await auditLogOf(other)];
    const writes: Promise<unknown>[] = [];
    // Rounds a few milliseconds apart, so each node commits many batches while the other does too.
    for (let round = 0; round < 30; round++) {
      for (let j = 0; j < 5; j++) {
        const i = round * 5 + j;
        writes.push(logA.append('call.intent', { requestId: `a${i}`, actor: { sub: 'alice' } }, { durable: true }));
        writes.push(logB.append('call.intent', { requestId: `b${i}`, actor: { sub: 'bob' } }, { durable: i % 3 === 0 }));
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await Promise.all(writes);
    await Promise.all([logA.close(), logB.close()]);
    expect(await storage.audit.count()).toBe(300);
    const all = await other.audit.scan(1, 1000);
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const ids = all.map((r) => JSON.parse(r.body).requestId as string);
    expect(new Set(ids).size).toBe(300);
    // Both nodes' batches were interleaved in the one chain (not one node after the other).
    const switches = ids.filter((id, i) => i > 0 && id[0] !== ids[i - 1]?.[0]).length;
    expect(switches, ids.join(' ')).toBeGreaterThanOrEqual(2);
    // Each node's own records are in the order it appended them.
    expect(ids.filter((id) => id.startsWith('a'))).toEqual(Array.from({ length: 150 }, (_, i) => `a${i}`));
    const verified = await verifyAuditLog(other.audit, other.signingKeys);
    expect(verified).toMatchObject({ ok: true, records: 300, headSeq: 300, headHash: all[299]?.hash });
    // Both nodes signed checkpoints with keys from the shared ring, and every one verifies.
    expect((verified as { checkpoints: number }).checkpoints).toBeGreaterThanOrEqual(2);
  });

  it("verify finds a record edited behind the store's back", async () => {
    await storage.audit.appendChained([entry(1), entry(2), entry(3)], linkRecord);
    await store.exec(`UPDATE audit_records SET body = '{"n":99}' WHERE seq = 2`);
    expect(await verifyAuditLog(storage.audit, storage.signingKeys)).toMatchObject({
      ok: false,
      brokenSeq: 2,
      reason: 'record #2 was modified (hash mismatch)',
    });
  });
});
