import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, type StoreUnderTest } from '../../../test/helpers/storage-backends.js';
import { MemoryOAuthStore } from '../memory/oauth-store.js';
import type { OAuthStore, Storage } from '../ports/index.js';

describe.each(BACKENDS)('identity storage ($name)', (backend) => {
  let store: StoreUnderTest;
  let storage: Storage;

  beforeEach(async () => {
    store = await backend.open();
    storage = store.storage;
  });
  afterEach(async () => store.cleanup());

  it('creates users once, updates them, and lists the disabled ones', async () => {
    expect(await storage.users.create({ name: 'alice', source: 'local', groups: ['eng'], passwordHash: 'h' }, 1)).toBe(true);
    expect(await storage.users.create({ name: 'alice', source: 'local', groups: [], passwordHash: 'x' }, 2)).toBe(false);
    expect(await storage.users.update('alice', { failedAttempts: 3, lockedUntil: 99, disabledAt: 5 }, 6)).toBe(true);
    expect(await storage.users.update('nobody', { failedAttempts: 1 }, 6)).toBe(false);
    expect(await storage.users.get('alice')).toMatchObject({
      name: 'alice',
      groups: ['eng'],
      passwordHash: 'h',
      failedAttempts: 3,
      lockedUntil: 99,
      disabledAt: 5,
      updatedAt: 6,
      createdAt: 1,
    });
    expect(await storage.users.disabledNames()).toEqual(['alice']);
  });

  it('reserves attempts in one statement: counts, locks at the threshold with doubling delay, refuses while locked', async () => {
    await storage.users.create({ name: 'alice', source: 'local', groups: [], passwordHash: 'h' }, 1);
    const policy = { threshold: 2, baseDelayMs: 1000, maxDelayMs: 5000 };
    expect(await storage.users.reserveAttempt('nobody', policy, 10)).toBeUndefined();
    expect(await storage.users.reserveAttempt('alice', policy, 10)).toEqual({ reserved: true, failedAttempts: 1, lockedUntil: null });
    expect(await storage.users.reserveAttempt('alice', policy, 10)).toEqual({ reserved: true, failedAttempts: 2, lockedUntil: 1010 });
    expect(await storage.users.reserveAttempt('alice', policy, 500)).toEqual({ reserved: false, lockedUntil: 1010 });
    expect(await storage.users.reserveAttempt('alice', policy, 1010)).toEqual({ reserved: true, failedAttempts: 3, lockedUntil: 3010 });
    expect(await storage.users.reserveAttempt('alice', policy, 3010)).toEqual({ reserved: true, failedAttempts: 4, lockedUntil: 7010 });
    expect(await storage.users.reserveAttempt('alice', policy, 7010)).toEqual({ reserved: true, failedAttempts: 5, lockedUntil: 12_010 });
    // Releasing gives back one attempt and lifts only the lock that reservation set.
    await storage.users.releaseAttempt('alice', 12_010, 7011);
    expect(await storage.users.get('alice')).toMatchObject({ failedAttempts: 4, lockedUntil: null });
    // The delay never overflows, however many failures and however large the settings.
    await storage.users.update('alice', { failedAttempts: 1_000_000, lockedUntil: null }, 1);
    const huge = { threshold: 1, baseDelayMs: 86_400_000, maxDelayMs: 30 * 86_400_000 };
    expect(await storage.users.reserveAttempt('alice', huge, 100)).toEqual({ reserved: true, failedAttempts: 1_000_001, lockedUntil: 100 + 30 * 86_400_000 });
  });

  it('claims a TOTP step only once and only forward, and enrolls a secret only once', async () => {
    await storage.users.create({ name: 'alice', source: 'local', groups: [], passwordHash: 'h' }, 1);
    expect(await storage.users.claimTotpStep('alice', 5, 2)).toBe(false); // not enrolled
    expect(await storage.users.enrollTotp('alice', 'SECRET1', 5, 2)).toBe(true);
    expect(await storage.users.enrollTotp('alice', 'SECRET2', 6, 2)).toBe(false);
    expect(await storage.users.claimTotpStep('alice', 5, 3)).toBe(false);
    expect(await storage.users.claimTotpStep('alice', 4, 3)).toBe(false);
    expect(await storage.users.claimTotpStep('alice', 6, 3)).toBe(true);
    expect(await storage.users.claimTotpStep('alice', 6, 3)).toBe(false);
    expect(await storage.users.get('alice')).toMatchObject({ totpSecret: 'SECRET1', totpLastStep: 6 });
  });

  it('never stores artifact ids (codes, refresh tokens, session ids) in any column', async () => {
    const code = 'C0DE-secret-value-that-must-not-be-stored';
    await storage.oauth.upsert(
      'AuthorizationCode',
      code,
      { jti: code, kind: 'AuthorizationCode', grantId: 'g1', accountId: 'alice', clientId: 'c1' },
      Date.now() + 60_000,
    );
    expect(await storage.oauth.find('AuthorizationCode', code)).toMatchObject({ jti: code, grantId: 'g1' });
    expect(await storage.oauth.find('AuthorizationCode', 'other')).toBeUndefined();
    const rows = await store.rows('SELECT * FROM oauth_artifacts');
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(code);
  });

  it('records consumption, and expires artifacts', async () => {
    await storage.oauth.upsert('RefreshToken', 'r1', { jti: 'r1', kind: 'RefreshToken' }, Date.now() + 60_000);
    const racing = await Promise.all([
      storage.oauth.consume('RefreshToken', 'r1'),
      storage.oauth.consume('RefreshToken', 'r1'),
      storage.oauth.consume('RefreshToken', 'r1'),
    ]);
    expect(racing.filter((r) => r.first)).toHaveLength(1);
    expect((await storage.oauth.find('RefreshToken', 'r1'))?.consumed).toEqual(expect.any(Number));
    await storage.oauth.upsert('RefreshToken', 'old', { jti: 'old', kind: 'RefreshToken' }, Date.now() - 1);
    expect(await storage.oauth.find('RefreshToken', 'old')).toBeUndefined();
    expect(await storage.oauth.purgeExpired(Date.now())).toBe(1);
  });
  it('consumes an artifact exactly once when several nodes race', async () => {
    const other = await store.another();
    await storage.oauth.upsert('AuthorizationCode', 'c1', { jti: 'c1', kind: 'AuthorizationCode', grantId: 'g9' }, Date.now() + 60_000);
    const racing = await Promise.all([storage, other, storage, other, other].map((s) => s.oauth.consume('AuthorizationCode', 'c1')));
    expect(racing.filter((r) => r.first)).toHaveLength(1);
    expect(racing.every((r) => r.grantId === 'g9')).toBe(true);
    expect(await storage.oauth.consume('AuthorizationCode', 'unknown')).toEqual({ first: false, grantId: null });
  });

  it('federated links: one subject, one user; createFederated is all or nothing', async () => {
    const idp = 'https://idp.example';
    expect(await storage.users.createFederated({ name: 'carol', source: 'federated', groups: ['g'], passwordHash: null }, idp, 'sub-c', 5)).toBe(true);
    expect(await storage.users.findFederated(idp, 'sub-c')).toEqual({ issuer: idp, subject: 'sub-c', name: 'carol', createdAt: 5 });
    // The name is taken: nothing is written.
    expect(await storage.users.createFederated({ name: 'carol', source: 'federated', groups: [], passwordHash: null }, idp, 'sub-x', 6)).toBe(false);
    expect(await storage.users.findFederated(idp, 'sub-x')).toBeUndefined();
    // The subject is taken: the new user is rolled back too.
    expect(await storage.users.createFederated({ name: 'dave', source: 'federated', groups: [], passwordHash: null }, idp, 'sub-c', 6)).toBe(false);
    expect(await storage.users.get('dave')).toBeUndefined();
    await storage.users.create({ name: 'erin', source: 'local', groups: [], passwordHash: 'h' }, 1);
    expect(await storage.users.link('erin', idp, 'sub-e', 7)).toBe('linked');
    expect(await storage.users.link('erin', idp, 'sub-e', 8)).toBe('unchanged');
    expect(await storage.users.link('erin', idp, 'sub-c', 8)).toBe('taken');
    expect(await storage.users.link('nobody', idp, 'sub-n', 8)).toBe('no_user');
    expect(await storage.users.link('erin', 'https://other.example', 'sub-e', 9)).toBe('linked');
    expect((await storage.users.federatedLinks('erin')).map((l) => l.issuer)).toEqual(['https://idp.example', 'https://other.example']);
    expect(await storage.users.unlink('erin', idp, 'sub-e')).toBe(true);
    expect(await storage.users.unlink('erin', idp, 'sub-e')).toBe(false);
    expect(await storage.users.findFederated(idp, 'sub-e')).toBeUndefined();
  });

  it('counts concurrent sign-in attempts from several nodes exactly (no lost update) and locks at the threshold', async () => {
    const other = await store.another();
    await storage.users.create({ name: 'alice', source: 'local', groups: [], passwordHash: 'h' }, 1);
    const policy = { threshold: 100, baseDelayMs: 1000, maxDelayMs: 5000 };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? storage : other).users.reserveAttempt('alice', policy, 10)));
    expect(results.map((r) => (r?.reserved ? r.failedAttempts : -1)).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const tight = { threshold: 21, baseDelayMs: 1000, maxDelayMs: 5000 };
    const next = await Promise.all([storage, other, storage].map((s) => s.users.reserveAttempt('alice', tight, 10)));
    expect(next.filter((r) => r?.reserved)).toHaveLength(1);
    expect(next.filter((r) => r && !r.reserved)).toEqual([
      { reserved: false, lockedUntil: 1010 },
      { reserved: false, lockedUntil: 1010 },
    ]);
  });

  it('lists users in name order and keeps groups and attributes as given', async () => {
    for (const name of ['bob', 'Zed', 'alice', 'Ålice']) {
      await storage.users.create({ name, source: 'local', groups: ['g"1', "g'2"], passwordHash: null, attributes: { email: `${name}@x`, note: '\u0000✓' } }, 1);
    }
    const users = await storage.users.list();
    expect(users.map((u) => u.name)).toEqual(['Zed', 'alice', 'bob', 'Ålice']);
    expect(users[0]).toMatchObject({ groups: ['g"1', "g'2"], attributes: { email: 'Zed@x', note: '\u0000✓' }, passwordHash: null, source: 'local' });
  });

  it('stores consents per user and client', async () => {
    const consent = { sub: 'alice', clientId: 'c1', clientName: 'Claude', redirectHost: 'localhost', scopes: ['mcp'], createdAt: 1, lastUsedAt: 1 };
    await storage.consents.upsert(consent);
    await storage.consents.upsert({ ...consent, clientId: 'c2', clientName: 'Cursor', lastUsedAt: 5 });
    await storage.consents.upsert({ ...consent, sub: 'bob' });
    await storage.consents.upsert({ ...consent, clientName: 'Claude 2', scopes: ['mcp', 'x'], createdAt: 99, lastUsedAt: 2 });
    expect(await storage.consents.get('alice', 'c1')).toEqual({ ...consent, clientName: 'Claude 2', scopes: ['mcp', 'x'], lastUsedAt: 2 });
    await storage.consents.touch('alice', 'c1', 9);
    expect((await storage.consents.listForUser('alice')).map((c) => [c.clientId, c.lastUsedAt])).toEqual([
      ['c1', 9],
      ['c2', 5],
    ]);
    expect(await storage.consents.delete('alice', 'c2')).toBe(true);
    expect(await storage.consents.delete('alice', 'c2')).toBe(false);
    expect(await storage.consents.deleteForClient('c1')).toBe(2);
    expect(await storage.consents.deleteForUser('alice')).toBe(0);
    expect(await storage.consents.get('bob', 'c1')).toBeUndefined();
  });
});

const oauthStores: [string, () => Promise<{ store: OAuthStore; cleanup(): Promise<void> }>][] = [
  ...BACKENDS.map(
    (backend) =>
      [
        backend.name,
        async () => {
          const opened = await backend.open();
          return { store: opened.storage.oauth, cleanup: () => opened.cleanup() };
        },
      ] as [string, () => Promise<{ store: OAuthStore; cleanup(): Promise<void> }>],
  ),
  ['memory', async () => ({ store: new MemoryOAuthStore(), cleanup: async () => undefined })],
];

describe.each(oauthStores)('OAuth artifact store (%s)', (_name, make) => {
  let cleanup: () => Promise<void>;
  let store: OAuthStore;
  beforeEach(async () => {
    ({ store, cleanup } = await make());
    const exp = Date.now() + 60_000;
    await store.upsert('Grant', 'g1', { jti: 'g1', kind: 'Grant', accountId: 'alice', clientId: 'c1' }, exp);
    await store.upsert('Grant', 'g2', { jti: 'g2', kind: 'Grant', accountId: 'alice', clientId: 'c2' }, exp);
    await store.upsert('RefreshToken', 'r1', { jti: 'r1', kind: 'RefreshToken', grantId: 'g1', accountId: 'alice', clientId: 'c1' }, exp);
    await store.upsert('RefreshToken', 'r2', { jti: 'r2', kind: 'RefreshToken', grantId: 'g2', accountId: 'alice', clientId: 'c2' }, exp);
    await store.upsert('Session', 's1', { jti: 's1', kind: 'Session', uid: 'u1', accountId: 'alice' }, exp);
    await store.upsert('Client', 'c1', { client_id: 'c1', redirect_uris: [] }, null);
  });

  afterEach(async () => cleanup());

  it('revokes a whole grant family and nothing else', async () => {
    await store.revokeByGrantId('g1');
    expect(await store.find('RefreshToken', 'r1')).toBeUndefined();
    expect(await store.find('Grant', 'g1')).toBeUndefined();
    expect(await store.find('RefreshToken', 'r2')).toBeDefined();
  });

  it('lists grant ids per user and client, finds sessions by uid', async () => {
    expect((await store.grantIds('alice')).sort()).toEqual(['g1', 'g2']);
    expect(await store.grantIds('alice', 'c2')).toEqual(['g2']);
    expect(await store.findByUid('Session', 'u1')).toMatchObject({ accountId: 'alice' });
  });

  it('deletes by account and by client, but keeps client registrations', async () => {
    expect(await store.deleteByClient('c1')).toBe(2);
    expect(await store.find('Client', 'c1')).toMatchObject({ client_id: 'c1' });
    expect(await store.deleteByAccount('alice')).toBe(3);
    expect(await store.find('Session', 's1')).toBeUndefined();
  });
});
