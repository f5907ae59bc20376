import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, changeSeen, type StoreUnderTest } from '../../../test/helpers/storage-backends.js';
import { linkRecord } from '../../audit/chain.js';
import { ChangeFeed } from '../change-feed.js';
import type { Storage } from '../ports/index.js';

/** Gives a notification that should NOT come time to arrive, then reads the flag. */
async function quietFor(storage: Storage, ms = 150): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return storage.externalChanges();
}

const revocation = (value: string) => ({ kind: 'user' as const, value, revokedAt: 1, expiresAt: Date.now() + 60_000, revokedBy: 'os:test', reason: null });

describe.each(BACKENDS)('externalChanges ($name)', (backend) => {
  let store: StoreUnderTest;
  let nodeA: Storage;
  let nodeB: Storage;

  beforeEach(async () => {
    store = await backend.open();
    nodeA = store.storage;
    nodeB = await store.another();
    nodeA.externalChanges();
    nodeB.externalChanges();
  });
  afterEach(async () => store.cleanup());

  it('a revocation written by node A flips node B, once; node A is not told about its own write', async () => {
    await nodeA.revocations.add(revocation('alice'));
    expect(await changeSeen(nodeB)).toBe(true);
    expect(nodeB.externalChanges()).toBe(false);
    expect(await quietFor(nodeA)).toBe(false);
    expect((await nodeB.revocations.listSince(0, Date.now())).map((r) => r.value)).toEqual(['alice']);
  });

  it('reports user, signing-key, vault and tool-pin changes from another node', async () => {
    const writes: [string, (s: Storage) => Promise<unknown>][] = [
      ['user created', (s) => s.users.create({ name: 'bob', source: 'local', groups: [], passwordHash: null }, 1)],
      ['user disabled', (s) => s.users.update('bob', { disabledAt: 5 }, 5)],
      [
        'signing key',
        (s) =>
          s.signingKeys.insert({
            kid: 'k',
            use: 'access-token',
            alg: 'EdDSA',
            publicJwk: '{}',
            privateJwk: '{}',
            createdAt: 1,
            retiredAt: null,
            expiresAt: null,
          }),
      ],
      [
        'vault secret',
        (s) => s.vault.put('x', { kekId: 'k', wrappedKey: Buffer.from([1]), iv: Buffer.alloc(12), ciphertext: Buffer.from([2]), tag: Buffer.alloc(16) }, 1),
      ],
      [
        'tool pin',
        (s) =>
          s.toolPins.record({ server: 's', tool: 't', digest: 'd', definition: '{}', state: 'approved', reason: 'first-start', findings: [], firstSeenAt: 1 }),
      ],
    ];
    for (const [what, write] of writes) {
      await write(nodeA);
      expect(await changeSeen(nodeB), what).toBe(true);
      expect(nodeB.externalChanges(), what).toBe(false);
    }
  });

  it('does not report audit appends, OAuth artifacts or approvals (nobody caches them; the audit writer commits constantly)', async () => {
    await nodeA.audit.appendChained([{ ts: 1, kind: 'call.intent', body: '{}' }], linkRecord);
    await nodeA.oauth.upsert('Session', 's1', { jti: 's1', kind: 'Session' }, null);
    await nodeA.leases.insert({
      id: 'l1',
      connector: 'c',
      actor: 'a',
      purpose: 'p',
      resource: 'r',
      issuedAt: 1,
      expiresAt: 2,
      state: 'active',
      revokedAt: null,
      revokeReason: null,
      ownerPid: 1,
      ownerInstance: 'i',
    });
    expect(await quietFor(nodeB)).toBe(false);
  });

  it("ChangeFeed: subscribers hear about another node's commit once, and not about their own", async () => {
    const feed = new ChangeFeed(nodeB);
    let calls = 0;
    feed.subscribe(() => {
      calls++;
    });
    expect(feed.poll()).toBeUndefined();
    await nodeA.revocations.add(revocation('alice'));
    const until = Date.now() + 3000;
    while (calls === 0 && Date.now() < until) {
      await feed.poll();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(calls).toBe(1);
    expect(feed.poll()).toBeUndefined();
    await nodeB.revocations.add(revocation('bob'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(feed.poll()).toBeUndefined();
    expect(calls).toBe(1);
    expect((await nodeB.revocations.listSince(0, Date.now())).map((e) => e.value)).toEqual(['alice', 'bob']);
  });
});
