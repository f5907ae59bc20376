import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, type StoreUnderTest } from '../../../test/helpers/storage-backends.js';
import type { SealedSecret, Storage } from '../ports/index.js';

const sealed = (n: number): SealedSecret => ({
  kekId: 'k',
  wrappedKey: Buffer.from([n]),
  iv: Buffer.alloc(12, n),
  ciphertext: Buffer.from(`ct${n}`),
  tag: Buffer.alloc(16, n),
});

describe.each(BACKENDS)('ConnectionStore ($name): the refresh lock and token rows', (backend) => {
  let store: StoreUnderTest;
  let a: Storage;
  let b: Storage;

  beforeEach(async () => {
    store = await backend.open();
    a = store.storage;
    b = await store.another(); // another process sharing the data dir, or another node
    await a.connections.connect(
      { user: 'alice', server: 'items', provider: 'Items', scopes: ['items:read'], refreshToken: sealed(1), accessToken: sealed(2), accessExpiresAt: 1000 },
      100,
    );
  });
  afterEach(async () => store.cleanup());

  it('one holder at a time across connections; a lapsed lease can be taken over; only the holder commits', async () => {
    expect(await a.connections.tryLock('alice', 'items', 'proc-a', 10_000, 1000)).toBe(true);
    expect(await b.connections.tryLock('alice', 'items', 'proc-b', 10_000, 1000)).toBe(false);
    // No row, no lock: a user who never connected cannot hold anything.
    expect(await b.connections.tryLock('bob', 'items', 'proc-b', 10_000, 1000)).toBe(false);
    expect(
      await b.connections.commitRefresh('alice', 'items', 'proc-b', { refreshToken: sealed(9), accessToken: sealed(9), accessExpiresAt: 5, scopes: [] }, 1000),
    ).toBeUndefined();
    const committed = await a.connections.commitRefresh(
      'alice',
      'items',
      'proc-a',
      { refreshToken: sealed(3), accessToken: sealed(4), accessExpiresAt: 9000, scopes: ['items:read'] },
      2000,
    );
    expect(committed).toEqual({ generation: 2 });
    const row = await b.connections.get('alice', 'items');
    expect(Buffer.from(row?.refreshToken?.ciphertext as Uint8Array).toString()).toBe('ct3');
    expect(row?.accessExpiresAt).toBe(9000);
    expect(row?.refreshedAt).toBe(2000);
    // The commit released the lock; a crashed holder's lease lapses and is taken over.
    expect(await b.connections.tryLock('alice', 'items', 'proc-b', 5000, 3000)).toBe(true);
    expect(await a.connections.tryLock('alice', 'items', 'proc-a', 20_000, 4999)).toBe(false);
    expect(await a.connections.tryLock('alice', 'items', 'proc-a', 20_000, 5000)).toBe(true);
    expect(
      await b.connections.commitRefresh('alice', 'items', 'proc-b', { refreshToken: sealed(5), accessToken: null, accessExpiresAt: null, scopes: [] }, 5001),
    ).toBeUndefined();
  });

  it('expireAccessToken only touches the generation it names; list never carries tokens; pending requests are single use and expire', async () => {
    await a.connections.expireAccessToken('alice', 'items', 7);
    expect((await a.connections.get('alice', 'items'))?.accessToken).not.toBeNull();
    await a.connections.expireAccessToken('alice', 'items', 1);
    expect((await a.connections.get('alice', 'items'))?.accessToken).toBeNull();
    const listed = await a.connections.list();
    expect(listed).toEqual([expect.objectContaining({ user: 'alice', server: 'items', hasRefreshToken: true })]);
    expect(JSON.stringify(listed)).not.toContain('ciphertext');
    expect(listed[0]).not.toHaveProperty('refreshToken');
    expect(listed[0]).not.toHaveProperty('accessToken');

    await a.connections.putPending({ state: 's1', user: 'alice', server: 'items', sessionId: 'x', verifier: sealed(7), createdAt: 0, expiresAt: 100 });
    await a.connections.putPending({ state: 's2', user: 'alice', server: 'items', sessionId: 'x', verifier: sealed(8), createdAt: 0, expiresAt: 100 });
    expect((await b.connections.takePending('s1', 50))?.user).toBe('alice');
    expect(await a.connections.takePending('s1', 50)).toBeUndefined();
    expect(await a.connections.takePending('s2', 100)).toBeUndefined();
    expect(await a.connections.takePending('s2', 50)).toBeUndefined();

    expect((await a.connections.deleteUser('alice')).map((r) => r.server)).toEqual(['items']);
    expect(await a.connections.list()).toEqual([]);
  });

  it('one of many racing nodes takes the lock; reconnecting moves the generation and releases it', async () => {
    const owners = Array.from({ length: 6 }, (_, i) => `proc-${i}`);
    const results = await Promise.all(owners.map((owner, i) => (i % 2 ? a : b).connections.tryLock('alice', 'items', owner, 10_000, 1000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const reconnected = await Promise.all([
      a.connections.connect(
        { user: 'alice', server: 'items', provider: 'Items', scopes: [], refreshToken: sealed(5), accessToken: null, accessExpiresAt: null },
        200,
      ),
      b.connections.connect(
        { user: 'alice', server: 'items', provider: 'Items', scopes: [], refreshToken: sealed(6), accessToken: null, accessExpiresAt: null },
        201,
      ),
    ]);
    expect(reconnected.map((r) => r.generation).sort()).toEqual([2, 3]);
    expect(await a.connections.tryLock('alice', 'items', 'proc-new', 10_000, 1000)).toBe(true);
    expect((await a.connections.delete('alice', 'items'))?.generation).toBe(3);
    expect(await b.connections.get('alice', 'items')).toBeUndefined();
    expect(await b.connections.delete('alice', 'items')).toBeUndefined();
  });

  it('hands a pending request to exactly one of several nodes taking it at once', async () => {
    await a.connections.putPending({ state: 's1', user: 'alice', server: 'items', sessionId: 'x', verifier: sealed(7), createdAt: 0, expiresAt: 100 });
    const taken = await Promise.all([a, b, a, b].map((s) => s.connections.takePending('s1', 50)));
    expect(taken.filter((t) => t !== undefined)).toHaveLength(1);
    const one = taken.find((t) => t !== undefined);
    expect(Buffer.from(one?.verifier.ciphertext as Uint8Array).toString()).toBe('ct7');
    expect(one).toMatchObject({ state: 's1', user: 'alice', server: 'items', sessionId: 'x', createdAt: 0, expiresAt: 100 });
  });
});
