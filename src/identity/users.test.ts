import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../storage/index.js';
import { hashPassword, verifyPassword } from './password.js';
import { currentTotp, newTotpSecret, verifyTotp } from './totp.js';
import { UserDirectory } from './users.js';

const PASSWORD = 'correct horse battery staple';

describe('passwords', () => {
  it('hashes with argon2id in PHC form and verifies only the right password', async () => {
    const hash = await hashPassword(PASSWORD);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword(PASSWORD, hash)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, hash)).toBe(false);
    expect(await verifyPassword(PASSWORD, 'plaintext')).toBe(false);
    expect(await hashPassword(PASSWORD)).not.toBe(hash);
  });
});

describe('TOTP', () => {
  it('accepts the current code once (RFC 6238 §5.2) and refuses garbage', () => {
    const secret = newTotpSecret();
    const now = Date.now();
    const step = verifyTotp(secret, currentTotp(secret, now), null, now);
    expect(step).toBeTypeOf('number');
    expect(verifyTotp(secret, currentTotp(secret, now), step as number, now)).toBeUndefined();
    expect(verifyTotp(secret, '12345', null, now)).toBeUndefined();
    expect(verifyTotp(secret, currentTotp(secret, now - 5 * 60_000), null, now)).toBeUndefined();
  });
});

describe('UserDirectory', () => {
  let now: number;
  let users: UserDirectory;
  let storage: SqliteStorage;

  beforeEach(async () => {
    now = 1_000_000;
    storage = SqliteStorage.open(mkdtempSync(path.join(tmpdir(), 'gh-users-')));
    users = new UserDirectory(storage.users, { threshold: 3, baseDelayMs: 30_000, maxDelayMs: 120_000 }, () => now);
    await users.add('alice', PASSWORD, ['eng', 'eng']);
  });

  it('adds users with deduplicated groups and refuses duplicates, bad names and weak passwords', async () => {
    expect(await users.get('alice')).toMatchObject({ name: 'alice', source: 'local', groups: ['eng'] });
    await expect(users.add('alice', PASSWORD, [])).rejects.toMatchObject({ code: 'identity.user_exists' });
    await expect(users.add('bad name', PASSWORD, [])).rejects.toMatchObject({ code: 'identity.invalid_name' });
    await expect(users.add('bob"', PASSWORD, [])).rejects.toMatchObject({ code: 'identity.invalid_name' });
    await expect(users.add('bob', 'short', [])).rejects.toMatchObject({ code: 'identity.weak_password' });
    expect(await users.get('bob')).toBeUndefined();
  });

  it('locks after repeated failures with doubling backoff, even for the right password', async () => {
    expect(await users.checkPassword('alice', 'wrong')).toEqual({ ok: false, reason: 'invalid' });
    expect(await users.checkPassword('alice', 'wrong')).toEqual({ ok: false, reason: 'invalid' });
    expect(await users.checkPassword('alice', 'wrong')).toEqual({ ok: false, reason: 'locked', retryAfterMs: 30_000 });
    expect(await users.checkPassword('alice', PASSWORD)).toMatchObject({ ok: false, reason: 'locked' });
    now += 30_001;
    expect(await users.checkPassword('alice', 'wrong')).toEqual({ ok: false, reason: 'locked', retryAfterMs: 60_000 });
    now += 60_001;
    expect(await users.checkPassword('alice', 'wrong')).toEqual({ ok: false, reason: 'locked', retryAfterMs: 120_000 });
    now += 120_001;
    expect(await users.checkPassword('alice', 'wrong')).toEqual({ ok: false, reason: 'locked', retryAfterMs: 120_000 });
    now += 120_001;
    const ok = await users.checkPassword('alice', PASSWORD);
    expect(ok.ok).toBe(true);
    await users.recordLogin('alice');
    expect(await users.get('alice')).toMatchObject({ failedAttempts: 0, lockedUntil: null, lastLoginAt: now });
  });

  it('answers unknown names exactly like wrong passwords, lockout included', async () => {
    expect(await users.checkPassword('mallory', 'x')).toEqual({ ok: false, reason: 'invalid' });
    expect(await users.checkPassword('mallory', 'x')).toEqual({ ok: false, reason: 'invalid' });
    expect(await users.checkPassword('mallory', 'x')).toEqual({ ok: false, reason: 'locked', retryAfterMs: 30_000 });
  });

  it('reports a disabled account only after the right password', async () => {
    await users.setDisabled('alice', true);
    expect(await users.checkPassword('alice', 'wrong')).toEqual({ ok: false, reason: 'invalid' });
    expect(await users.checkPassword('alice', PASSWORD)).toEqual({ ok: false, reason: 'disabled' });
  });

  it('enrolls TOTP only with a valid code, refuses replay, and counts TOTP failures', async () => {
    const user = (await users.get('alice'))!;
    const secret = newTotpSecret();
    now = Date.now();
    expect((await users.enrollTotp(user, secret, '000000')).ok).toBe(false);
    expect((await users.get('alice'))!.totpSecret).toBeNull();
    const code = currentTotp(secret, now);
    expect((await users.enrollTotp(user, secret, code)).ok).toBe(true);
    const enrolled = (await users.get('alice'))!;
    expect(enrolled.totpSecret).toBe(secret);
    expect(await users.checkTotp(enrolled, code)).toMatchObject({ ok: false, reason: 'invalid' });
    await users.resetMfa('alice');
    expect((await users.get('alice'))!.totpSecret).toBeNull();
  });

  it('keeps SSO users from taking over a local account', async () => {
    const issuer = 'https://idp.example';
    expect(await users.signInFederated({ issuer, subject: 's-alice', username: 'alice', groups: ['x'], attributes: {} })).toEqual({
      ok: false,
      reason: 'name_taken',
      holder: 'local',
    });
    expect(await storage.users.findFederated(issuer, 's-alice')).toBeUndefined();
    const fed = await users.signInFederated({ issuer, subject: 's-carol', username: 'carol', groups: ['eng'], attributes: { email: 'carol@example.com' } });
    expect(fed).toMatchObject({ ok: true, created: true, user: { name: 'carol', source: 'federated', groups: ['eng'], passwordHash: null } });
    expect(await users.checkPassword('carol', '')).toEqual({ ok: false, reason: 'invalid' });
    await expect(users.setPassword('carol', PASSWORD)).rejects.toMatchObject({ code: 'identity.not_local' });
  });

  describe('federated identities are keyed by (issuer, subject)', () => {
    const issuer = 'https://idp.example';
    const carol = { issuer, subject: 'sub-1', username: 'carol', groups: ['eng'], attributes: {} };

    it('a second subject with the same name is refused and gets nothing of the first', async () => {
      expect(await users.signInFederated(carol)).toMatchObject({ ok: true, created: true });
      const impostor = await users.signInFederated({ ...carol, subject: 'sub-2', groups: ['admins'] });
      expect(impostor).toEqual({ ok: false, reason: 'name_taken', holder: 'federated' });
      // carol's record is untouched by the refused sign-in.
      expect(await users.get('carol')).toMatchObject({ groups: ['eng'] });
      expect(await storage.users.findFederated(issuer, 'sub-2')).toBeUndefined();
      // The same subject under the same issuer is the same person (a trailing slash is not another IdP).
      expect(await users.signInFederated({ ...carol, issuer: `${issuer}/`, groups: ['eng', 'ops'] })).toMatchObject({
        ok: true,
        created: false,
        user: { name: 'carol', groups: ['eng', 'ops'] },
      });
      // Another issuer with the same subject is another person.
      expect(await users.signInFederated({ ...carol, issuer: 'https://other-idp.example' })).toMatchObject({ ok: false, reason: 'name_taken' });
    });

    it('a known subject keeps its account when the IdP renames it, and cannot claim another name', async () => {
      await users.signInFederated(carol);
      const renamed = await users.signInFederated({ ...carol, username: 'alice' });
      expect(renamed).toMatchObject({ ok: true, user: { name: 'carol' } });
      expect(await users.get('alice')).toMatchObject({ source: 'local', groups: ['eng'] });
    });

    it('links and unlinks only by operator action; a linked local account keeps its own groups', async () => {
      await expect(users.linkFederated('nobody', issuer, 'sub-9')).rejects.toMatchObject({ code: 'identity.unknown_user' });
      await expect(users.linkFederated('alice', 'not a url', 'sub-9')).rejects.toMatchObject({ code: 'identity.invalid_link' });
      await expect(users.linkFederated('alice', issuer, '')).rejects.toMatchObject({ code: 'identity.invalid_link' });
      await expect(users.linkFederated('alice', issuer, 'x'.repeat(256))).rejects.toMatchObject({ code: 'identity.invalid_link' });
      expect(await users.linkFederated('alice', `${issuer}/`, 'sub-a')).toBe('linked');
      expect(await users.linkFederated('alice', issuer, 'sub-a')).toBe('unchanged');
      expect(await users.federatedLinks('alice')).toMatchObject([{ issuer, subject: 'sub-a', name: 'alice' }]);
      const signedIn = await users.signInFederated({ issuer, subject: 'sub-a', username: 'whatever', groups: ['admins'], attributes: { email: 'x@y' } });
      expect(signedIn).toMatchObject({ ok: true, created: false, user: { name: 'alice', source: 'local', groups: ['eng'] } });
      await users.signInFederated(carol);
      await expect(users.linkFederated('alice', issuer, 'sub-1')).rejects.toMatchObject({ code: 'identity.link_taken' });
      await users.unlinkFederated('alice', issuer, 'sub-a');
      await expect(users.unlinkFederated('alice', issuer, 'sub-a')).rejects.toMatchObject({ code: 'identity.not_linked' });
      expect(await users.signInFederated({ issuer, subject: 'sub-a', username: 'alice', groups: [], attributes: {} })).toMatchObject({
        ok: false,
        reason: 'name_taken',
      });
    });

    it('concurrent first sign-ins of one subject create one account; of two subjects with one name, one wins', async () => {
      const same = await Promise.all([users.signInFederated(carol), users.signInFederated(carol), users.signInFederated(carol)]);
      expect(same.every((r) => r.ok && r.user.name === 'carol')).toBe(true);
      expect(same.filter((r) => r.ok && r.created)).toHaveLength(1);
      const rivals = await Promise.all([
        users.signInFederated({ ...carol, subject: 'r1', username: 'dave' }),
        users.signInFederated({ ...carol, subject: 'r2', username: 'dave' }),
      ]);
      expect(rivals.filter((r) => r.ok)).toHaveLength(1);
      expect(rivals.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'name_taken', holder: 'federated' }]);
    });
  });

  describe('attempts are reserved before they are checked', () => {
    it('40 concurrent wrong passwords and then the right one: only the threshold is checked, the right one is refused', async () => {
      // Counts the reservations that let a check run: only those reach the password hash.
      let checked = 0;
      const store = storage.users;
      const counting = Object.assign(Object.create(Object.getPrototypeOf(store) as object) as typeof store, store, {
        reserveAttempt: async (...args: Parameters<typeof store.reserveAttempt>) => {
          const reservation = await store.reserveAttempt(...args);
          if (reservation?.reserved) checked++;
          return reservation;
        },
      });
      const directory = new UserDirectory(counting, { threshold: 3, baseDelayMs: 30_000, maxDelayMs: 120_000 }, () => now);
      const results = await Promise.all([
        ...Array.from({ length: 40 }, () => directory.checkPassword('alice', 'wrong password')),
        directory.checkPassword('alice', PASSWORD),
      ]);
      expect(checked).toBe(3);
      expect(results.filter((r) => !r.ok && r.reason === 'invalid')).toHaveLength(2);
      expect(results.filter((r) => !r.ok && r.reason === 'locked')).toHaveLength(39);
      expect(results.at(-1)).toEqual({ ok: false, reason: 'locked', retryAfterMs: 30_000 });
      expect(await users.get('alice')).toMatchObject({ failedAttempts: 3, lockedUntil: now + 30_000 });
    });

    it('a right password among concurrent wrong ones gives back only its own reservation', async () => {
      const results = await Promise.all([users.checkPassword('alice', PASSWORD), users.checkPassword('alice', 'wrong password')]);
      expect(results[0]).toMatchObject({ ok: true });
      expect(results[1]).toEqual({ ok: false, reason: 'invalid' });
      expect(await users.get('alice')).toMatchObject({ failedAttempts: 1, lockedUntil: null });
      // The right password at the threshold lifts the lock its own reservation set.
      expect(await users.checkPassword('alice', 'wrong password')).toEqual({ ok: false, reason: 'invalid' });
      expect(await users.checkPassword('alice', PASSWORD)).toMatchObject({ ok: true });
      expect(await users.get('alice')).toMatchObject({ failedAttempts: 2, lockedUntil: null });
    });

    it('two processes sharing the database cannot race the count either', async () => {
      const other = SqliteStorage.open(path.dirname(storage.sql.file));
      try {
        const second = new UserDirectory(other.users, { threshold: 3, baseDelayMs: 30_000, maxDelayMs: 120_000 }, () => now);
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? users : second).checkPassword('alice', 'wrong password')));
        expect(results.filter((r) => !r.ok && r.reason === 'invalid')).toHaveLength(2);
        expect(results.filter((r) => !r.ok && r.reason === 'locked')).toHaveLength(18);
        expect(await other.users.get('alice')).toMatchObject({ failedAttempts: 3 });
      } finally {
        await other.close();
      }
    });

    it('does not hash or count inputs no account can have', async () => {
      expect(await users.checkPassword('a'.repeat(129), PASSWORD)).toEqual({ ok: false, reason: 'invalid' });
      expect(await users.checkPassword('alice', 'x'.repeat(1025))).toEqual({ ok: false, reason: 'invalid' });
      expect(await users.get('alice')).toMatchObject({ failedAttempts: 0 });
    });

    it('TOTP: concurrent checks beyond the threshold are refused unchecked, and one code passes once even when raced', async () => {
      const secret = newTotpSecret();
      now = Date.now();
      const alice = (await users.get('alice'))!;
      expect((await users.enrollTotp(alice, secret, currentTotp(secret, now))).ok).toBe(true);
      await users.recordLogin('alice');
      now += 30_000;
      const code = currentTotp(secret, now);
      const enrolled = (await users.get('alice'))!;
      const raced = await Promise.all([users.checkTotp(enrolled, code), users.checkTotp(enrolled, code), users.checkTotp(enrolled, code)]);
      expect(raced.filter((r) => r.ok)).toHaveLength(1);
      expect(raced.filter((r) => !r.ok)).toHaveLength(2);
      await users.recordLogin('alice');
      const guesses = await Promise.all([
        ...Array.from({ length: 10 }, () => users.checkTotp(enrolled, '000000')),
        users.checkTotp(enrolled, currentTotp(secret, now + 30_000)),
      ]);
      expect(guesses.filter((r) => !r.ok && r.reason === 'locked')).toHaveLength(9);
      expect(guesses.at(-1)).toMatchObject({ ok: false, reason: 'locked' });
      expect(await users.get('alice')).toMatchObject({ failedAttempts: 3 });
    });

    it('enrollment is reserved too, and stores a secret only if none is enrolled', async () => {
      now = Date.now();
      const alice = (await users.get('alice'))!;
      const guesses = await Promise.all(Array.from({ length: 5 }, () => users.enrollTotp(alice, newTotpSecret(), '000000')));
      expect(guesses.filter((r) => !r.ok && r.reason === 'locked')).toHaveLength(3);
      now += 31_000;
      const first = newTotpSecret();
      const second = newTotpSecret();
      const both = await Promise.all([users.enrollTotp(alice, first, currentTotp(first, now)), users.enrollTotp(alice, second, currentTotp(second, now))]);
      expect(both.filter((r) => r.ok)).toHaveLength(1);
      expect((await users.get('alice'))!.totpSecret).toBe(first);
    });
  });
});
