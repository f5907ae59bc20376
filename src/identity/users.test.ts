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
    expect(await users.upsertFederated('alice', ['x'], {})).toBe('conflict');
    const fed = await users.upsertFederated('carol', ['eng'], { email: 'carol@example.com' });
    expect(fed).toMatchObject({ name: 'carol', source: 'federated', groups: ['eng'], passwordHash: null });
    expect(await users.checkPassword('carol', '')).toEqual({ ok: false, reason: 'invalid' });
    await expect(users.setPassword('carol', PASSWORD)).rejects.toMatchObject({ code: 'identity.not_local' });
  });
});
