import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cleanup, CLI, cli, ECHO_SERVER, exited, NODE, spawnTracked, tempDir, waitFor, writeConfig } from '../helpers/e2e.js';

/**
 * Sandbox configuration that cannot be met stops `gatehouse start` with a clear error before any
 * upstream runs; `auto` on a machine without a working bubblewrap starts unconfined, loudly.
 * Machines without bubblewrap, or without user namespaces, are made real by running the gateway
 * itself inside an outer bubblewrap that hides bwrap or forbids new user namespaces.
 */
describe('sandbox configuration errors', () => {
  afterAll(cleanup);

  async function setup(sandbox: Record<string, unknown>) {
    const dir = tempDir('gh-sbx-cfg-');
    const marker = path.join(dir, 'started');
    const { configPath, port } = await writeConfig(dir, {
      // The echo server writes nothing; a started child would show up in status and logs.
      servers: { echo: { command: NODE, args: [ECHO_SERVER], env: { STARTED_MARKER: marker }, sandbox } },
      access: [{ allow: { users: ['alice'], servers: ['echo'] } }],
    });
    return { dir, configPath, port, dataDir: path.join(dir, 'data'), marker };
  }

  /** `gatehouse start` inside an outer bubblewrap that changes what the machine offers. */
  function startInside(outer: string[], configPath: string, dataDir: string) {
    const bwrap = inject('bubblewrap');
    // Own PID namespace, dying with the test: stopping the outer bubblewrap stops the gateway in it.
    const child = spawnTracked(
      bwrap,
      [
        '--unshare-pid',
        '--die-with-parent',
        '--bind',
        '/',
        '/',
        '--dev',
        '/dev',
        '--proc',
        '/proc',
        ...outer,
        '--',
        NODE,
        CLI,
        'start',
        '--config',
        configPath,
        '--data-dir',
        dataDir,
      ],
      {
        env: { PATH: process.env.PATH ?? '', HOME: path.dirname(dataDir) },
      },
    );
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    return { child, out: () => stdout, err: () => stderr };
  }

  it('a granted path that does not exist: exit 1, the key and the path named, nothing started', async () => {
    const { dir, configPath, dataDir } = await setup({ writable: ['files'], readable: ['/no/such/place'] });
    const result = await cli(['start', '--config', configPath, '--data-dir', dataDir, '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`servers.echo.sandbox.writable[0]: ${path.join(dir, 'files')} does not exist; create it or remove the grant`);
    expect(result.stderr).toContain('servers.echo.sandbox.readable[0]: /no/such/place does not exist');
    expect(result.stdout).not.toContain('Gatehouse ready');
  });

  it('the same config starts once the path exists (the error was the path, nothing else)', async () => {
    const { dir, configPath, dataDir } = await setup({ writable: ['files'] });
    mkdirSync(path.join(dir, 'files'));
    const child = spawnTracked(NODE, [CLI, 'start', '--config', configPath, '--data-dir', dataDir, '--port', '0'], { env: { PATH: process.env.PATH ?? '' } });
    child.stdin.end();
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    await waitFor(() => stdout.includes('Gatehouse ready'), 'gateway ready', 30_000);
    child.kill('SIGTERM');
    await exited(child);
  });

  it('`config check` reports the same errors, and the sandbox of each server when valid', async () => {
    const bad = await setup({ readable: ['nope'] });
    const failed = await cli(['config', 'check', '--config', bad.configPath, '--json']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toEqual({
      ok: false,
      code: 'config.invalid',
      issues: [{ path: 'servers.echo.sandbox.readable[0]', message: `${path.join(bad.dir, 'nope')} does not exist; create it or remove the grant` }],
    });
    const good = await setup({ network: 'host' });
    const passed = await cli(['config', 'check', '--config', good.configPath]);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stdout).toMatch(/sandbox echo: on \(bubblewrap \S+; network: host \(shares the gateway's network\)\)/);
  });

  it('a grant of the data dir is refused before anything runs', async () => {
    const { configPath, dataDir } = await setup({ readable: ['data'] });
    mkdirSync(dataDir, { recursive: true });
    const result = await cli(['start', '--config', configPath, '--data-dir', dataDir, '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`servers.echo.sandbox.readable[0]: ${dataDir} is (inside) ${dataDir}, which the gateway keeps from every upstream`);
  });

  it('`config check --json`-style errors: --json on start prints the issues with their keys', async () => {
    const { configPath, dataDir } = await setup({ writable: ['missing'] });
    const result = await cli(['start', '--config', configPath, '--data-dir', dataDir, '--port', '0', '--json']);
    expect(result.code).toBe(1);
    const body = JSON.parse(result.stdout) as { ok: boolean; code: string; issues: { path: string; message: string }[] };
    expect(body).toMatchObject({ ok: false, code: 'config.invalid' });
    expect(body.issues.map((i) => i.path)).toEqual(['servers.echo.sandbox.writable[0]']);
  });

  it('required, bubblewrap not installed: exit 1 with the reason and the package to install', async () => {
    const { configPath, dataDir, marker } = await setup({ mode: 'required' });
    const bwrap = inject('bubblewrap');
    const run = startInside(['--ro-bind', '/dev/null', bwrap], configPath, dataDir);
    const exit = await exited(run.child);
    expect(exit.code).toBe(1);
    expect(run.err()).toContain(
      'servers.echo.sandbox.mode is "required" but bubblewrap (bwrap) is not installed; on Debian/Ubuntu: apt-get install bubblewrap',
    );
    expect(run.out()).not.toContain('Gatehouse ready');
    expect(existsSync(marker)).toBe(false);
  });

  it('required, user namespaces forbidden (a locked-down container): exit 1 with bubblewrap’s own reason', async () => {
    const { configPath, dataDir } = await setup({ mode: 'required' });
    const run = startInside(['--unshare-user', '--disable-userns'], configPath, dataDir);
    const exit = await exited(run.child);
    expect(exit.code).toBe(1);
    expect(run.err()).toMatch(/servers\.echo\.sandbox\.mode is "required" but bubblewrap cannot create a sandbox here: bwrap: /);
  });

  it('auto, bubblewrap not installed: starts unconfined, warns loudly, and status says off and why', async () => {
    const { configPath, dataDir, port } = await setup({});
    const bwrap = inject('bubblewrap');
    const run = startInside(['--ro-bind', '/dev/null', bwrap], configPath, dataDir);
    await waitFor(() => run.out().includes('Gatehouse ready'), 'gateway ready', 30_000);
    const warning = run
      .err()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.server === 'echo' && l.sandbox === 'off');
    expect(warning?.level).toBe('warn');
    expect(String(warning?.msg)).toContain('SANDBOX OFF for upstream "echo" (unavailable: bubblewrap (bwrap) is not installed');
    const status = await cli(['status', '--config', configPath, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const body = JSON.parse(status.stdout) as { sandbox: Record<string, { on: boolean; mode: string; reason: string }> };
    expect(body.sandbox).toEqual({ echo: { on: false, mode: 'auto', network: 'none', reason: expect.stringContaining('not installed') } });
    const human = await cli(['status', '--config', configPath]);
    expect(human.stdout).toContain('sandbox echo: OFF (unavailable: bubblewrap (bwrap) is not installed');
    expect(port).toBeGreaterThan(0);
    run.child.kill('SIGTERM');
    await exited(run.child);
  });
});
