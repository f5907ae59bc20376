import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, cli, ECHO_SERVER, execSql, NODE, startGateway, tempDir, type GatewayProcess } from '../helpers/e2e.js';

const DAY_MS = 86_400_000;

/** `gatehouse status` against a running gateway: the hardening line and vault rotation warnings. */
describe('gatehouse status: hardening and secret age', () => {
  let gw: GatewayProcess;
  let env: NodeJS.ProcessEnv;
  const value = `rotation-canary-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    const home = tempDir('gh-status-home-');
    env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };
    gw = await startGateway({
      config: { servers: { echo: { command: NODE, args: [ECHO_SERVER] } }, access: [] },
      env: { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') },
      dataDir: path.join(home, 'data'),
    });
  });
  afterAll(cleanup);

  it('no warning while every secret is fresh; the hardening line is there', async () => {
    expect((await cli(['vault', 'put', 'fresh', '--data-dir', gw.dataDir], { env, input: value })).code).toBe(0);
    const status = await cli(['status', '--data-dir', gw.dataDir], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^ {2}hardening: on \(not dumpable, core limit 0\/0, children not dumpable\)$/m);
    expect(status.stdout).not.toContain('WARNING');
    const json = JSON.parse((await cli(['status', '--data-dir', gw.dataDir, '--json'], { env })).stdout) as Record<string, unknown>;
    expect(json.vault).toEqual({ rotationDue: [] });
  });

  it('warns about secrets older than 90 days, oldest first, without failing the check or showing a value', async () => {
    for (const name of ['stale', 'older']) expect((await cli(['vault', 'put', name, '--data-dir', gw.dataDir], { env, input: value })).code).toBe(0);
    execSql(gw.dataDir, `UPDATE vault_secrets SET rotated_at = ${Date.now() - 91 * DAY_MS} WHERE name = 'stale'`);
    execSql(gw.dataDir, `UPDATE vault_secrets SET rotated_at = ${Date.now() - 200 * DAY_MS} WHERE name = 'older'`);
    const status = await cli(['status', '--data-dir', gw.dataDir], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('WARNING 2 vault secrets older than 90 days, rotate with gatehouse vault rotate NAME: older (200 days), stale (91 days)');
    const json = await cli(['status', '--data-dir', gw.dataDir, '--json'], { env });
    expect((JSON.parse(json.stdout) as { vault: unknown }).vault).toEqual({
      rotationDue: [
        { name: 'older', ageDays: 200 },
        { name: 'stale', ageDays: 91 },
      ],
    });
    expect(status.stdout + status.stderr + json.stdout + json.stderr).not.toContain(value);
    // Rotating clears it.
    expect((await cli(['vault', 'rotate', 'older', '--data-dir', gw.dataDir], { env, input: `${value}-2` })).code).toBe(0);
    expect((await cli(['status', '--data-dir', gw.dataDir], { env })).stdout).toContain(
      'WARNING 1 vault secret older than 90 days, rotate with gatehouse vault rotate NAME: stale (91 days)',
    );
  });
});
