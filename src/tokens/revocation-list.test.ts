import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../storage/index.js';
import type { Principal } from './principal.js';
import { RevocationList } from './revocation-list.js';

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    sub: 'alice',
    groups: [],
    clientId: 'c1',
    scopes: ['mcp'],
    jti: 'j1',
    issuedAt: 10_000,
    expiresAt: 310_000,
    act: [],
    authorizationDetails: undefined,
    authTime: undefined,
    amr: [],
    grantId: 'g1',
    dpopJkt: undefined,
    claims: {},
    ...overrides,
  };
}

describe('RevocationList', () => {
  let now: number;
  let gateway: SqliteStorage;
  let cli: SqliteStorage;
  let list: RevocationList;
  let seen: string[];

  beforeEach(async () => {
    now = 20_000;
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-revlist-'));
    gateway = SqliteStorage.open(dir);
    cli = SqliteStorage.open(dir);
    seen = [];
    list = new RevocationList(
      gateway.revocations,
      gateway.users,
      (e) => {
        seen.push(`${e.kind}:${e.value}`);
      },
      () => now,
    );
    await list.refresh();
  });

  const add = (kind: 'token' | 'user' | 'client' | 'grant' | 'session', value: string, revokedAt = now) =>
    cli.revocations.add({ kind, value, revokedAt, expiresAt: revokedAt + 1_000_000, revokedBy: 'os:test', reason: null });

  it('refuses tokens issued at or before a user, client or grant revocation, not after', async () => {
    await add('user', 'alice');
    await list.refresh();
    expect(() => list.check(principal())).toThrow(expect.objectContaining({ code: 'auth.token_revoked' }));
    expect(() => list.check(principal({ issuedAt: now }))).toThrow(expect.objectContaining({ code: 'auth.token_revoked' }));
    expect(() => list.check(principal({ issuedAt: now + 1000 }))).not.toThrow();
    expect(() => list.check(principal({ sub: 'bob' }))).not.toThrow();
    await add('client', 'c2');
    await add('grant', 'g9');
    await list.refresh();
    expect(() => list.check(principal({ sub: 'bob', clientId: 'c2' }))).toThrow();
    // Delegated through c2 (token exchange): revoked with it.
    expect(() => list.check(principal({ sub: 'bob', clientId: 'sub-agent', act: ['sub-agent', 'c2'] }))).toThrow();
    expect(() => list.check(principal({ sub: 'bob', grantId: 'g9' }))).toThrow();
    // A revoked grant stays revoked for tokens signed after the revocation too.
    expect(() => list.check(principal({ sub: 'bob', grantId: 'g9', issuedAt: now + 5000 }))).toThrow();
    expect(seen).toEqual(['user:alice', 'client:c2', 'grant:g9']);
  });

  it('refuses one token by jti, and every token of a disabled user', async () => {
    await add('token', 'j1');
    await gateway.users.create({ name: 'dave', source: 'local', groups: [], passwordHash: null }, 1);
    await cli.users.update('dave', { disabledAt: 5 }, 5);
    await list.refresh();
    expect(() => list.check(principal())).toThrow();
    expect(() => list.check(principal({ jti: 'j2' }))).not.toThrow();
    expect(() => list.check(principal({ sub: 'dave', jti: 'j3', issuedAt: now + 99_000 }))).toThrow();
  });

  it('lets the authorization server wait out the second of the newest revocation, and only that', async () => {
    now = Date.now();
    const real = new RevocationList(gateway.revocations, gateway.users);
    await real.refresh();
    const t = Date.now();
    await real.afterLatestCutoff();
    expect(Date.now() - t).toBeLessThan(50);
    const revokedAt = Date.now();
    await cli.revocations.add({ kind: 'user', value: 'alice', revokedAt, expiresAt: revokedAt + 60_000, revokedBy: 'os:test', reason: null });
    await real.refresh();
    await real.afterLatestCutoff();
    // A token signed now has an iat later than the revocation's second, so it is not refused.
    expect(Math.floor(Date.now() / 1000)).toBeGreaterThan(Math.floor(revokedAt / 1000));
  });

  it('drops entries once nothing they could match is alive', async () => {
    await cli.revocations.add({ kind: 'user', value: 'alice', revokedAt: now, expiresAt: now + 60_000, revokedBy: 'os:test', reason: null });
    await list.refresh();
    expect(list.size).toBe(1);
    now += 60_001;
    list.check(principal({ sub: 'bob' }));
    expect(list.size).toBe(0);
    await list.refresh();
    expect(list.size).toBe(0);
  });
});
