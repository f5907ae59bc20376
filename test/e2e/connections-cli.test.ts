import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CALLBACK, CLIENT_SECRET_NAME, connectionWorld, type ConnectionWorld } from '../helpers/connections.js';
import { FakeOAuthProvider } from '../helpers/fake-oauth-provider.js';

const CLIENT_SECRET = 'cli-test-client-secret-4d1e';

describe('gatehouse connections list | revoke, and revoke --user', () => {
  let idp: FakeOAuthProvider;
  let world: ConnectionWorld;
  let dataDir: string;

  beforeEach(async () => {
    idp = await FakeOAuthProvider.start({ redirectUri: CALLBACK, clientSecret: CLIENT_SECRET });
    world = await connectionWorld({ secrets: { [CLIENT_SECRET_NAME]: CLIENT_SECRET } });
    dataDir = world.dataDir;
    const items = world.provider('items', {
      issuer: idp.issuer,
      dangerouslyAllowHttp: true,
      clientId: 'gatehouse-downstream',
      clientSecret: `vault:${CLIENT_SECRET_NAME}`,
      scopes: ['openid', 'offline_access', 'items:read'],
      displayName: 'Items Cloud',
    });
    for (const user of ['alice', 'bob']) {
      idp.current = user;
      const callback = await idp.authorize(await items.startConnect(user, `s-${user}`));
      const pending = await world.storage.connections.takePending(callback.searchParams.get('state') as string, Date.now());
      await items.finishConnect(callback, pending as NonNullable<typeof pending>);
    }
    await world.close();
  });

  afterEach(async () => {
    await idp.stop();
  });

  it('lists connections without any token, filters by user, and rejects bad usage with exit 2', async () => {
    const all = await runCli(['connections', 'list', '--data-dir', dataDir, '--json']);
    expect(all.code).toBe(0);
    const listed = JSON.parse(all.stdout) as { connections: { user: string; server: string; provider: string; scopes: string[]; refreshable: boolean }[] };
    expect(listed.connections.map((c) => [c.user, c.server, c.provider, c.refreshable])).toEqual([
      ['alice', 'items', 'Items Cloud', true],
      ['bob', 'items', 'Items Cloud', true],
    ]);
    expect(listed.connections[0]?.scopes).toContain('items:read');
    for (const token of idp.issued) expect(all.stdout.includes(token)).toBe(false);
    const bob = await runCli(['connections', 'list', '--user', 'bob', '--data-dir', dataDir]);
    expect(bob.code).toBe(0);
    expect(bob.stdout).toMatch(/^bob\titems\tItems Cloud/);
    expect(bob.stdout).not.toContain('alice');
    expect((await runCli(['connections', 'revoke', '--user', 'alice', '--data-dir', dataDir])).code).toBe(2);
    expect((await runCli(['connections', 'list', '--bogus', '--data-dir', dataDir])).code).toBe(2);
  });

  it('revokes one connection (exit 0), then reports there is none (exit 1); revoke --user removes the rest and audits each', async () => {
    const revoked = await runCli(['connections', 'revoke', '--user', 'alice', '--server', 'items', '--data-dir', dataDir, '--json']);
    expect(revoked.code).toBe(0);
    // Without a configuration naming the server, the tokens are deleted here only (and said so).
    expect(JSON.parse(revoked.stdout)).toMatchObject({ revoked: { user: 'alice', server: 'items', atProvider: 'unknown_server' } });
    const again = await runCli(['connections', 'revoke', '--user', 'alice', '--server', 'items', '--data-dir', dataDir]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('alice has no connection to items');

    const user = await runCli(['revoke', '--user', 'bob', '--data-dir', dataDir, '--json']);
    expect(user.code).toBe(0);
    expect(JSON.parse(user.stdout)).toMatchObject({ revoked: { kind: 'user', value: 'bob', connections: [{ user: 'bob', server: 'items' }] } });
    const left = JSON.parse((await runCli(['connections', 'list', '--data-dir', dataDir, '--json'])).stdout) as { connections: unknown[] };
    expect(left.connections).toEqual([]);

    const audit = await runCli(['audit', 'query', '--kind', 'connection.revoked', '--data-dir', dataDir, '--json']);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/"via": "cli"/);
    expect(audit.stdout).toMatch(/"via": "revoke"/);
    for (const token of idp.issued) expect(audit.stdout.includes(token)).toBe(false);
  });
});
