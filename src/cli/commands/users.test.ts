import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/helpers/cli.js';
import { verifyPassword } from '../../identity/password.js';
import { SqliteStorage } from '../../storage/index.js';

const PASSWORD = 'a sufficiently long passphrase';

describe('gatehouse users / revoke', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(tmpdir(), 'gh-cli-')), 'data');
  });

  const kinds = async () => {
    const s = SqliteStorage.open(dir);
    try {
      return (await s.audit.query({ limit: 1000 })).map((r) => [r.kind, JSON.parse(r.body) as Record<string, unknown>] as const);
    } finally {
      await s.close();
    }
  };

  it('adds a user from stdin, creating the data dir, and never echoes the password', async () => {
    const res = await runCli(['users', 'add', 'alice', '--group', 'eng', '--group', 'ops', '--data-dir', dir, '--password-stdin'], `${PASSWORD}\n`);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toContain('added user alice (groups: eng, ops)');
    expect(res.stdout + res.stderr).not.toContain(PASSWORD);
    const s = SqliteStorage.open(dir);
    const user = await s.users.get('alice');
    await s.close();
    expect(user).toMatchObject({ groups: ['eng', 'ops'], source: 'local' });
    expect(await verifyPassword(PASSWORD, user!.passwordHash!)).toBe(true);
    const audit = await kinds();
    expect(audit.map(([k]) => k)).toContain('admin.user_added');
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
  });

  it('exits 2 without --password-stdin or with a password in argv, 1 for refusals', async () => {
    expect((await runCli(['users', 'add', 'alice', '--data-dir', dir], PASSWORD)).code).toBe(2);
    expect((await runCli(['users', 'add', 'alice', '--password', PASSWORD, '--data-dir', dir])).code).toBe(2);
    const weak = await runCli(['users', 'add', 'alice', '--data-dir', dir, '--password-stdin'], 'short');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/at least 12 characters/);
    await runCli(['users', 'add', 'alice', '--data-dir', dir, '--password-stdin'], PASSWORD);
    const dup = await runCli(['users', 'add', 'alice', '--data-dir', dir, '--password-stdin'], PASSWORD);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
    expect((await runCli(['users', 'disable', 'nobody', '--data-dir', dir])).code).toBe(1);
  });

  it('lists users as JSON without secrets, disables and re-enables, resets MFA', async () => {
    await runCli(['users', 'add', 'alice', '--data-dir', dir, '--password-stdin'], PASSWORD);
    const list = await runCli(['users', 'list', '--data-dir', dir, '--json']);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'alice', mfa: false, disabled: false })]);
    expect(list.stdout).not.toMatch(/argon2|hash/i);
    expect((await runCli(['users', 'disable', 'alice', '--reason', 'left the team', '--data-dir', dir])).code).toBe(0);
    expect(JSON.parse((await runCli(['users', 'list', '--data-dir', dir, '--json'])).stdout)[0].disabled).toBe(true);
    const audit = await kinds();
    const revoked = audit.find(([k]) => k === 'admin.revoke');
    expect(revoked?.[1]).toMatchObject({ actor: { sub: expect.stringMatching(/^os:/) }, revoked: { kind: 'user', value: 'alice', reason: 'left the team' } });
    expect((await runCli(['users', 'enable', 'alice', '--data-dir', dir])).code).toBe(0);
    expect((await runCli(['users', 'reset-mfa', 'alice', '--data-dir', dir])).code).toBe(0);
    expect((await kinds()).map(([k]) => k)).toEqual(expect.arrayContaining(['admin.user_disabled', 'admin.user_enabled', 'admin.mfa_reset']));
  });

  it('revoke takes exactly one target and records who revoked what', async () => {
    expect((await runCli(['revoke', '--data-dir', dir])).code).toBe(2);
    expect((await runCli(['revoke', '--user', 'a', '--client', 'b', '--data-dir', dir])).code).toBe(2);
    const res = await runCli(['revoke', '--token', 'jti-123', '--reason', 'leaked in a log', '--data-dir', dir, '--json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ revoked: { kind: 'token', value: 'jti-123' } });
    const s = SqliteStorage.open(dir);
    const entries = await s.revocations.listSince(0, Date.now());
    await s.close();
    expect(entries).toEqual([
      expect.objectContaining({ kind: 'token', value: 'jti-123', reason: 'leaked in a log', revokedBy: expect.stringMatching(/^os:/) }),
    ]);
    expect(entries[0]!.expiresAt - entries[0]!.revokedAt).toBeGreaterThanOrEqual(15 * 60_000);
  });

  it('links and unlinks a single sign-on identity: exit codes 0/1/2, JSON, audited', async () => {
    const iss = 'https://idp.example/';
    await runCli(['users', 'add', 'alice', '--data-dir', dir, '--password-stdin'], PASSWORD);
    await runCli(['users', 'add', 'bob', '--data-dir', dir, '--password-stdin'], PASSWORD);
    expect((await runCli(['users', 'link', 'alice', '--subject', 's1', '--data-dir', dir])).code).toBe(2);
    expect((await runCli(['users', 'link', 'alice', '--issuer', iss, '--data-dir', dir])).code).toBe(2);
    expect((await runCli(['users', 'link', '--issuer', iss, '--subject', 's1', '--data-dir', dir])).code).toBe(2);
    const linked = await runCli(['users', 'link', 'alice', '--issuer', iss, '--subject', 's1', '--data-dir', dir, '--json']);
    expect(linked).toMatchObject({ code: 0 });
    expect(JSON.parse(linked.stdout)).toEqual({ name: 'alice', issuer: 'https://idp.example', subject: 's1', linked: true, changed: true });
    expect(
      JSON.parse((await runCli(['users', 'link', 'alice', '--issuer', 'https://idp.example', '--subject', 's1', '--data-dir', dir, '--json'])).stdout),
    ).toMatchObject({ changed: false });
    // One identity is one person: it cannot also be bob, and unknown users or bad identities are refused.
    const taken = await runCli(['users', 'link', 'bob', '--issuer', iss, '--subject', 's1', '--data-dir', dir]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('linked to user "alice"');
    expect((await runCli(['users', 'link', 'nobody', '--issuer', iss, '--subject', 's2', '--data-dir', dir])).code).toBe(1);
    expect((await runCli(['users', 'link', 'bob', '--issuer', 'ftp://idp', '--subject', 's2', '--data-dir', dir])).code).toBe(1);
    const list = JSON.parse((await runCli(['users', 'list', '--data-dir', dir, '--json'])).stdout) as { name: string; identities: unknown[] }[];
    expect(list.find((u) => u.name === 'alice')?.identities).toEqual([{ issuer: 'https://idp.example', subject: 's1' }]);
    expect(list.find((u) => u.name === 'bob')?.identities).toEqual([]);
    expect((await runCli(['users', 'unlink', 'alice', '--issuer', iss, '--subject', 's1', '--data-dir', dir])).code).toBe(0);
    expect((await runCli(['users', 'unlink', 'alice', '--issuer', iss, '--subject', 's1', '--data-dir', dir])).code).toBe(1);
    const audit = await kinds();
    expect(audit.filter(([k]) => k === 'admin.identity_linked').map(([, b]) => b)).toEqual([
      expect.objectContaining({ user: { name: 'alice' }, identity: { issuer: 'https://idp.example', subject: 's1' } }),
    ]);
    expect(audit.filter(([k]) => k === 'admin.identity_unlinked')).toHaveLength(1);
  });
});
