import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, type StoreUnderTest } from '../../../test/helpers/storage-backends.js';
import type { LeaseRecord, SealedSecret, SigningKeyRecord, Storage } from '../ports/index.js';

const key = (kid: string, over: Partial<SigningKeyRecord> = {}): SigningKeyRecord => ({
  kid,
  use: 'access-token',
  alg: 'EdDSA',
  publicJwk: `{"kid":"${kid}","x":"pub"}`,
  privateJwk: `{"kid":"${kid}","d":"priv"}`,
  createdAt: 1000,
  retiredAt: null,
  expiresAt: null,
  ...over,
});

const sealed = (n: number): SealedSecret => ({
  kekId: `kek-${n % 2}`,
  wrappedKey: Buffer.from([n, 0, 255]),
  iv: Buffer.alloc(12, n),
  ciphertext: Buffer.from([0, 1, 2, n, 0]),
  tag: Buffer.alloc(16, n),
});

const lease = (id: string, over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  id,
  connector: 'crm',
  actor: 'alice',
  purpose: 'crm__query',
  resource: `gh_${id}`,
  issuedAt: 1000,
  expiresAt: 2000,
  state: 'active',
  revokedAt: null,
  revokeReason: null,
  ownerPid: 4242,
  ownerInstance: 'node-a',
  ...over,
});

describe.each(BACKENDS)('settings, signing keys, vault, leases and revocations ($name)', (backend) => {
  let store: StoreUnderTest;
  let storage: Storage;

  beforeEach(async () => {
    store = await backend.open();
    storage = store.storage;
  });
  afterEach(async () => store.cleanup());

  it('settings: get, set, overwrite', async () => {
    expect(await storage.settings.get('public.url')).toBeUndefined();
    await storage.settings.set('public.url', 'https://a.example');
    await storage.settings.set('public.url', "https://b.example/'x'");
    expect(await storage.settings.get('public.url')).toBe("https://b.example/'x'");
    await storage.probeWritable();
    expect(await storage.settings.get('public.url')).toBe("https://b.example/'x'");
  });

  it('signing keys: insert once per kid, list newest first per use, retire once, delete only expired', async () => {
    await storage.signingKeys.insert(key('k1', { createdAt: 1000 }));
    await storage.signingKeys.insert(key('k1', { createdAt: 9999, publicJwk: 'other' }));
    await storage.signingKeys.insert(key('k2', { createdAt: 2000 }));
    await storage.signingKeys.insert(key('a1', { use: 'audit', createdAt: 3000 }));
    expect((await storage.signingKeys.list('access-token')).map((k) => k.kid)).toEqual(['k2', 'k1']);
    expect((await storage.signingKeys.list('access-token'))[1]).toEqual(key('k1'));
    expect((await storage.signingKeys.list('audit')).map((k) => k.kid)).toEqual(['a1']);
    await storage.signingKeys.retire('k1', 5000, 6000);
    await storage.signingKeys.retire('k1', 7000, 8000); // already retired: unchanged
    expect((await storage.signingKeys.list('access-token')).find((k) => k.kid === 'k1')).toMatchObject({ retiredAt: 5000, expiresAt: 6000 });
    expect(await storage.signingKeys.deleteExpired(6000)).toBe(0);
    expect(await storage.signingKeys.deleteExpired(6001)).toBe(1);
    expect((await storage.signingKeys.list('access-token')).map((k) => k.kid)).toEqual(['k2']);
  });

  it('signing keys: nodes racing to create the first key end up with one active key, which every racer gets back', async () => {
    const other = await store.another();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? storage : other).signingKeys.insertIfNoActive(key(`race-${i}`, { createdAt: 1000 + i }))),
    );
    expect(new Set(results.map((r) => r.kid)).size).toBe(1);
    const active = (await storage.signingKeys.list('access-token')).filter((k) => k.retiredAt === null);
    expect(active.map((k) => k.kid)).toEqual([results[0]?.kid]);
    // Another use is independent.
    expect((await other.signingKeys.insertIfNoActive(key('audit-1', { use: 'audit' }))).kid).toBe('audit-1');
  });

  it('vault: versions, metadata without values, bytes intact, delete', async () => {
    expect(await storage.vault.put('db/password', sealed(1), 100)).toEqual({ version: 1, created: true });
    expect(await storage.vault.put('db/password', sealed(2), 200)).toEqual({ version: 2, created: false });
    expect(await storage.vault.put('api', sealed(3), 300)).toEqual({ version: 1, created: true });
    const got = await storage.vault.get('db/password');
    expect(got).toMatchObject({ name: 'db/password', version: 2, kekId: 'kek-0', createdAt: 100, rotatedAt: 200, lastUsedAt: null, usedBy: [] });
    expect(Buffer.from(got?.sealed.ciphertext as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 2, 0]));
    expect(Buffer.from(got?.sealed.wrappedKey as Uint8Array)).toEqual(Buffer.from([2, 0, 255]));
    expect(Buffer.from(got?.sealed.tag as Uint8Array)).toEqual(Buffer.alloc(16, 2));
    const listed = await storage.vault.list();
    expect(listed.map((s) => s.name)).toEqual(['api', 'db/password']);
    expect(JSON.stringify(listed)).not.toMatch(/sealed|ciphertext|wrappedKey/);
    expect((await storage.vault.kekIds()).sort()).toEqual(['kek-0', 'kek-1']);
    expect(await storage.vault.delete('api')).toBe(true);
    expect(await storage.vault.delete('api')).toBe(false);
    expect(await storage.vault.get('api')).toBeUndefined();
    expect(await storage.vault.put('api', sealed(4), 400)).toEqual({ version: 1, created: true });
  });

  it('vault: records consumers once each, at most 32, and nodes writing one name at once each get their own version', async () => {
    await storage.vault.put('s', sealed(1), 1);
    await storage.vault.markUsed('s', 'servers.a.env.X', 10);
    await storage.vault.markUsed('s', 'servers.a.env.X', 11);
    await storage.vault.markUsed('missing', 'x', 11);
    expect(await storage.vault.get('s')).toMatchObject({ lastUsedAt: 11, usedBy: ['servers.a.env.X'] });
    for (let i = 0; i < 40; i++) await storage.vault.markUsed('s', `c${i}`, 20 + i);
    const usedBy = (await storage.vault.get('s'))?.usedBy ?? [];
    expect(usedBy).toHaveLength(32);
    expect(usedBy.at(-1)).toBe('c39');
    const other = await store.another();
    const versions = await Promise.all([storage, other, storage, other].map((s, i) => s.vault.put('race', sealed(i), 100 + i)));
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2, 3, 4]);
    expect(versions.filter((v) => v.created)).toHaveLength(1);
  });

  it('leases: insert, open ones oldest first, revoke once', async () => {
    await storage.leases.insert(lease('l2', { issuedAt: 2000 }));
    await storage.leases.insert(lease('l1', { issuedAt: 1000 }));
    await storage.leases.insert(lease('l3', { issuedAt: 3000, state: 'revoked', revokedAt: 3001, revokeReason: 'done' }));
    await expect(storage.leases.insert(lease('l1'))).rejects.toThrow();
    expect((await storage.leases.open()).map((l) => l.id)).toEqual(['l1', 'l2']);
    await storage.leases.markRevoked('l1', 5000, 'expired');
    await storage.leases.markRevoked('l1', 6000, 'again');
    expect(await storage.leases.get('l1')).toEqual(lease('l1', { state: 'revoked', revokedAt: 5000, revokeReason: 'expired' }));
    expect(await storage.leases.get('nope')).toBeUndefined();
    expect((await storage.leases.open()).map((l) => l.id)).toEqual(['l2']);
  });

  it('revocations: ids increase, listSince pages by id and skips expired, purge removes expired', async () => {
    const now = 10_000;
    const a = await storage.revocations.add({ kind: 'user', value: 'alice', revokedAt: 1, expiresAt: now + 1000, revokedBy: 'os:root', reason: 'left' });
    const b = await storage.revocations.add({ kind: 'token', value: 'jti-1', revokedAt: 2, expiresAt: now - 1, revokedBy: 'alice', reason: null });
    const c = await storage.revocations.add({ kind: 'client', value: 'c1', revokedAt: 3, expiresAt: now + 1000, revokedBy: 'os:root', reason: null });
    expect(b.id).toBeGreaterThan(a.id);
    expect(c.id).toBeGreaterThan(b.id);
    expect(await storage.revocations.listSince(0, now)).toEqual([a, c]);
    expect(await storage.revocations.listSince(a.id, now)).toEqual([c]);
    expect(await storage.revocations.purgeExpired(now)).toBe(1);
    expect(await storage.revocations.purgeExpired(now)).toBe(0);
  });

  it('revocations written concurrently by several nodes become visible in id order: a reader paging by id misses none', async () => {
    const nodes = [storage, await store.another(), await store.another()];
    const seen: number[] = [];
    let last = 0;
    let done = false;
    const reader = (async () => {
      while (!done) {
        for (const entry of await nodes[0]!.revocations.listSince(last, 0)) {
          seen.push(entry.id);
          last = entry.id;
        }
      }
    })();
    const added = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        (nodes[i % 3] as Storage).revocations.add({ kind: 'token', value: `j${i}`, revokedAt: i, expiresAt: 1e15, revokedBy: 'x', reason: null }),
      ),
    );
    done = true;
    await reader;
    for (const entry of await nodes[0]!.revocations.listSince(last, 0)) seen.push(entry.id);
    expect(seen.sort((x, y) => x - y)).toEqual(added.map((e) => e.id).sort((x, y) => x - y));
  });
});
