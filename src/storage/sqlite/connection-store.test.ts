import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SealedSecret } from '../ports/index.js';
import { SqliteStorage } from './index.js';

const sealed = (n: number): SealedSecret => ({
  kekId: 'k',
  wrappedKey: Buffer.from([n]),
  iv: Buffer.alloc(12, n),
  ciphertext: Buffer.from(`ct${n}`),
  tag: Buffer.alloc(16, n),
});

describe('SqliteConnectionStore: the refresh lock and token rows', () => {
  let dir: string;
  let a: SqliteStorage;
  let b: SqliteStorage;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-conn-store-'));
    a = SqliteStorage.open(dir);
    b = SqliteStorage.open(dir); // a second connection: another process sharing the data dir
    await a.connections.connect(
      { user: 'alice', server: 'items', provider: 'Items', scopes: ['items:read'], refreshToken: sealed(1), accessToken: sealed(2), accessExpiresAt: 1000 },
      100,
    );
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

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

    await a.connections.putPending({ state: 's1', user: 'alice', server: 'items', sessionId: 'x', verifier: sealed(7), createdAt: 0, expiresAt: 100 });
    await a.connections.putPending({ state: 's2', user: 'alice', server: 'items', sessionId: 'x', verifier: sealed(8), createdAt: 0, expiresAt: 100 });
    expect((await b.connections.takePending('s1', 50))?.user).toBe('alice');
    expect(await a.connections.takePending('s1', 50)).toBeUndefined();
    expect(await a.connections.takePending('s2', 100)).toBeUndefined();
    expect(await a.connections.takePending('s2', 50)).toBeUndefined();

    expect((await a.connections.deleteUser('alice')).map((r) => r.server)).toEqual(['items']);
    expect(await a.connections.list()).toEqual([]);
  });
});
