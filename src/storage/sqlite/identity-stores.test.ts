import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChangeFeed } from '../change-feed.js';
import { MemoryOAuthStore } from '../memory/oauth-store.js';
import type { OAuthStore } from '../ports/index.js';
import { SqliteStorage } from './index.js';

describe('identity storage (SQLite)', () => {
  let dir: string;
  let storage: SqliteStorage;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-idstore-'));
    storage = SqliteStorage.open(dir);
  });
  afterEach(async () => storage.close());

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

  it('links existing federated users to the subject that last signed in when the federated-identities table is added', async () => {
    await storage.users.create(
      { name: 'carol', source: 'federated', groups: [], passwordHash: null, attributes: { idp: 'https://idp.example/', idp_sub: 'sub-c' } },
      1,
    );
    await storage.users.create({ name: 'nosub', source: 'federated', groups: [], passwordHash: null, attributes: { idp: 'https://idp.example' } }, 1);
    await storage.users.create(
      { name: 'alice', source: 'local', groups: [], passwordHash: 'h', attributes: { idp: 'https://idp.example', idp_sub: 'sub-a' } },
      1,
    );
    // Back to the schema before the table existed, then open again.
    storage.sql.db.exec("DROP TABLE federated_identities; DELETE FROM schema_migrations WHERE id = '0005-federated-identities'");
    await storage.close();
    storage = SqliteStorage.open(dir);
    expect(await storage.users.findFederated('https://idp.example', 'sub-c')).toMatchObject({ name: 'carol' });
    expect(await storage.users.federatedLinks('nosub')).toEqual([]);
    expect(await storage.users.findFederated('https://idp.example', 'sub-a')).toBeUndefined();
  });

  it('never stores artifact ids (codes, refresh tokens) in the database file', async () => {
    const code = 'C0DE-secret-value-that-must-not-be-on-disk';
    await storage.oauth.upsert(
      'AuthorizationCode',
      code,
      { jti: code, kind: 'AuthorizationCode', grantId: 'g1', accountId: 'alice', clientId: 'c1' },
      Date.now() + 60_000,
    );
    expect(await storage.oauth.find('AuthorizationCode', code)).toMatchObject({ jti: code, grantId: 'g1' });
    expect(await storage.oauth.find('AuthorizationCode', 'other')).toBeUndefined();
    storage.sql.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const bytes = readFileSync(path.join(dir, 'gatehouse.db')).toString('latin1');
    expect(bytes).not.toContain(code);
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
});

describe.each<[string, () => OAuthStore]>([
  ['SQLite', () => SqliteStorage.open(mkdtempSync(path.join(tmpdir(), 'gh-idstore-'))).oauth],
  ['memory', () => new MemoryOAuthStore()],
])('OAuth artifact store (%s)', (_name, make) => {
  let store: OAuthStore;
  beforeEach(async () => {
    store = make();
    const exp = Date.now() + 60_000;
    await store.upsert('Grant', 'g1', { jti: 'g1', kind: 'Grant', accountId: 'alice', clientId: 'c1' }, exp);
    await store.upsert('Grant', 'g2', { jti: 'g2', kind: 'Grant', accountId: 'alice', clientId: 'c2' }, exp);
    await store.upsert('RefreshToken', 'r1', { jti: 'r1', kind: 'RefreshToken', grantId: 'g1', accountId: 'alice', clientId: 'c1' }, exp);
    await store.upsert('RefreshToken', 'r2', { jti: 'r2', kind: 'RefreshToken', grantId: 'g2', accountId: 'alice', clientId: 'c2' }, exp);
    await store.upsert('Session', 's1', { jti: 's1', kind: 'Session', uid: 'u1', accountId: 'alice' }, exp);
    await store.upsert('Client', 'c1', { client_id: 'c1', redirect_uris: [] }, null);
  });

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

describe('ChangeFeed', () => {
  it('tells subscribers about commits from another connection, once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-feed-'));
    const gateway = SqliteStorage.open(dir);
    const cli = SqliteStorage.open(dir);
    const feed = new ChangeFeed(gateway);
    let calls = 0;
    feed.subscribe(() => {
      calls++;
    });
    expect(feed.poll()).toBeUndefined();
    await cli.revocations.add({ kind: 'user', value: 'alice', revokedAt: 1, expiresAt: Date.now() + 1000, revokedBy: 'os:test', reason: null });
    await feed.poll();
    expect(calls).toBe(1);
    expect(feed.poll()).toBeUndefined();
    await gateway.revocations.add({ kind: 'user', value: 'bob', revokedAt: 1, expiresAt: Date.now() + 1000, revokedBy: 'os:test', reason: null });
    expect(feed.poll()).toBeUndefined();
    expect((await gateway.revocations.listSince(0, Date.now())).map((e) => e.value)).toEqual(['alice', 'bob']);
    await cli.close();
    await gateway.close();
  });
});
