import { randomBytes } from 'node:crypto';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  cleanup,
  connectClient,
  ECHO_SERVER,
  exited,
  NODE,
  ROOT,
  sleep,
  spawnTracked,
  tempDir,
  text,
  waitFor,
  writeConfig,
  type GatewayProcess,
} from '../helpers/e2e.js';
import { testUser, type TestUser } from '../helpers/unprivileged.js';

const PROBE = path.join(ROOT, 'test/fixtures/proc-probe.py');
// Debian's interpreter: one under root's home (pyenv and the like) is not executable by the test user.
const PYTHON = '/usr/bin/python3';
const ADDON = path.join(ROOT, 'native/hardening/build/Release/hardening.node');

interface ProbeResult {
  pid: number;
  uid: number;
  environ: string;
  environFound?: boolean;
  mem: string;
  memFound?: boolean;
  ptrace: string;
}

/** /proc/<pid>/limits "Max core file size": [soft, hard]. */
function coreLimit(pid: number): [string, string] {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max core file size')) as string;
  const [, soft, hard] = /^Max core file size\s+(\S+)\s+(\S+)/.exec(line) ?? [];
  return [soft as string, hard as string];
}

/** Every file under `dir` (recursively) whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (readFileSync(file).includes(needle)) hits.push(file);
  }
  return hits;
}

function coreFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^core(\.\d+)?$/.test(f));
}

/**
 * The gateway's own memory is out of reach of its peers: it runs non-dumpable with a core
 * limit of 0, its children too, and the master key is in no process environment. Everything
 * runs as an unprivileged user, since root reads any process; a dumpable control process of
 * the same user, started the same way, shows what the machine would otherwise allow.
 */
/** Every process below `pid` (bubblewrap's children: the sandbox's init and the program). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      children = [];
    }
    for (const c of children) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

describe('process hardening', () => {
  const vaultCanary = `vault-canary-${randomBytes(12).toString('hex')}`;
  const controlCanary = `control-canary-${randomBytes(12).toString('hex')}`;
  const masterKey = randomBytes(32).toString('base64');
  let user: TestUser;
  let home: string;
  let gatewayCwd: string;
  let controlCwd: string;
  let dataDir: string;
  let gateway: ChildProcess;
  let gatewayOut = '';
  let gatewayErr = '';
  let control: ChildProcess;
  let port: number;
  let baseEnv: NodeJS.ProcessEnv;

  /** Runs `argv` as the test user, inheriting the given cwd; resolves with its output. */
  function runAsUser(argv: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    const [command, ...args] = [...user.prefix, ...argv] as [string, ...string[]];
    return spawnSync(command, args, { input: options.input ?? '', env: options.env ?? baseEnv, cwd: options.cwd ?? home, encoding: 'utf8', timeout: 30_000 });
  }

  /** Starts `argv` as the test user with an unlimited soft core limit, the way a careless shell would. */
  function startAsUser(argv: string[], env: NodeJS.ProcessEnv, cwd: string): ChildProcess {
    const [command, ...args] = [...user.prefix, 'bash', '-c', 'ulimit -S -c unlimited && exec "$@"', 'gatehouse-test', ...argv] as [string, ...string[]];
    return spawnTracked(command, args, { env, cwd });
  }

  function probe(pids: number[], find: string): ProbeResult[] {
    const result = runAsUser([PYTHON, PROBE, '--find', find, ...pids.map(String)]);
    if (result.status !== 0) throw new Error(`probe failed (${result.status}): ${result.stderr}`);
    return JSON.parse(result.stdout) as ProbeResult[];
  }

  async function readyz(): Promise<Record<string, unknown> & { upstreams: Record<string, { detail: { instances: { pid?: number }[] } }> }> {
    return (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as never;
  }

  beforeAll(async () => {
    const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
    if (pattern.startsWith('|') || pattern.includes('/')) {
      throw new Error(
        `kernel.core_pattern is "${pattern}": this test needs core files written to the crashing process's cwd ("core" or "core.%p") to tell a dump from none`,
      );
    }
    if (spawnSync(PYTHON, ['--version']).status !== 0)
      throw new Error(`${PYTHON} (Debian package python3) is required for the ptrace probe, and by node-gyp to build the addon`);
    statSync(ADDON); // the addon is built by npm ci / make build; a missing one fails here, loudly
    user = testUser([CLI, NODE, ECHO_SERVER, PROBE, ADDON]);
    home = user.own(tempDir('gh-hard-home-'));
    gatewayCwd = user.own(tempDir('gh-hard-gw-'));
    controlCwd = user.own(tempDir('gh-hard-ctl-'));
    dataDir = path.join(home, 'data');
    baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, GATEHOUSE_MASTER_KEY: masterKey };

    const put = runAsUser([NODE, CLI, 'vault', 'put', 'canary', '--data-dir', dataDir], { input: vaultCanary });
    expect(put.status, put.stderr).toBe(0);

    const written = await writeConfig(home, {
      servers: { local: { command: NODE, args: [ECHO_SERVER], env: { ECHO_SECRET: 'vault:canary' } } },
      access: [{ allow: { users: ['alice'], servers: ['local'] } }],
    });
    port = written.port;
    gateway = startAsUser([NODE, CLI, 'start', '--config', written.configPath, '--data-dir', dataDir], baseEnv, gatewayCwd);
    gateway.stdout?.on('data', (c: Buffer) => (gatewayOut += c.toString()));
    gateway.stderr?.on('data', (c: Buffer) => (gatewayErr += c.toString()));
    await Promise.race([
      waitFor(() => gatewayOut.includes('Gatehouse ready at'), 'gateway ready', 30_000),
      exited(gateway).then((e) => Promise.reject(new Error(`gateway exited ${JSON.stringify(e)}: ${gatewayOut}\n${gatewayErr}`))),
    ]);
    // The control: a plain node process of the same user holding a canary in memory and environment.
    // --jitless only keeps its core file small (no code-range reservation: ~50 MB, not ~590 MB).
    control = startAsUser(
      [
        NODE,
        '--jitless',
        '-e',
        'globalThis.keep = [process.env.CONTROL_CANARY, Buffer.from(String(process.env.CONTROL_CANARY))]; setInterval(() => {}, 1e6); console.log("up")',
      ],
      { ...baseEnv, GATEHOUSE_MASTER_KEY: undefined, CONTROL_CANARY: controlCanary },
      controlCwd,
    );
    let controlOut = '';
    control.stdout?.on('data', (c: Buffer) => (controlOut += c.toString()));
    await waitFor(() => controlOut.includes('up'), 'control process up');
  });
  afterAll(cleanup);

  it('status --json reports hardening on: not dumpable, core limit 0/0, children preloaded', async () => {
    const status = runAsUser([NODE, CLI, 'status', '--data-dir', dataDir, '--json']);
    expect(status.status, status.stderr).toBe(0);
    const body = JSON.parse(status.stdout) as { hardening: Record<string, unknown>; vault: { rotationDue: unknown[] } };
    expect(body.hardening).toEqual({
      enabled: true,
      addon: true,
      dumpable: false,
      coreLimit: { soft: 0, hard: 0 },
      children: { coreLimit: 'inherited', dumpable: true },
    });
    expect(body.vault).toEqual({ rotationDue: [] });
    const human = runAsUser([NODE, CLI, 'status', '--data-dir', dataDir]);
    expect(human.stdout).toContain('  hardening: on (not dumpable, core limit 0/0, children not dumpable)');
    expect(gatewayErr).not.toContain('process hardening is OFF');
  });

  it('a same-user sibling cannot read the gateway’s environ or mem, nor ptrace it; the dumpable control shows it otherwise could', () => {
    const [gw, ctl] = probe([gateway.pid as number, control.pid as number], vaultCanary);
    expect(gw?.uid).toBe(user.uid);
    expect(gw).toMatchObject({ environ: 'EACCES', mem: 'EACCES', ptrace: 'EPERM' });
    const [ctlFound] = probe([control.pid as number], controlCanary);
    // The machine allows all three between processes of this user: the checks above can fail.
    expect(ctl).toMatchObject({ environ: 'ok', mem: 'ok', ptrace: 'ok' });
    expect(ctlFound).toMatchObject({ environ: 'ok', environFound: true, mem: 'ok', memFound: true, ptrace: 'ok' });
  });

  it('the stdio upstream child is non-dumpable too and has the 0/0 core limit; its harmless tool still works', async () => {
    const ready = await readyz();
    const childPid = ready.upstreams.local?.detail.instances[0]?.pid as number;
    expect(childPid).toBeGreaterThan(0);
    expect(coreLimit(childPid)).toEqual(['0', '0']);
    expect(coreLimit(gateway.pid as number)).toEqual(['0', '0']);
    // The upstream runs under bubblewrap, which must stay dumpable (it sets up a user namespace):
    // the canary is in neither its environment nor its command line; the program got it on fd 3.
    expect(readFileSync(`/proc/${childPid}/environ`).includes(vaultCanary)).toBe(false);
    expect(readFileSync(`/proc/${childPid}/cmdline`).includes(vaultCanary)).toBe(false);
    // The program itself (a descendant of bubblewrap) holds the canary (ECHO_SECRET); a sibling cannot read it.
    const holder = descendants(childPid).find((pid) => readFileSync(`/proc/${pid}/environ`).includes(vaultCanary));
    expect(holder).toBeDefined();
    expect(coreLimit(holder as number)).toEqual(['0', '0']);
    const [child] = probe([holder as number], vaultCanary);
    expect(child).toMatchObject({ environ: 'EACCES', mem: 'EACCES' });
    expect(child?.environFound).toBeUndefined();
    // Residual, documented in the security model: the sandbox's user namespace is owned by the
    // gateway's user, whose other processes hold CAP_SYS_PTRACE inside it, so a sibling may
    // attach to the sandboxed program (not to the gateway) unless Yama restricts ptrace.
    const yama = existsSync('/proc/sys/kernel/yama/ptrace_scope') ? Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8')) : 0;
    if (yama >= 1) expect(child?.ptrace).toBe('EPERM');

    const token = runAsUser([NODE, CLI, 'token', 'issue', '--data-dir', dataDir, '--sub', 'alice']).stdout.trim();
    const client = await connectClient({ mcpUrl: `http://127.0.0.1:${port}/mcp` } as GatewayProcess, token);
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'still works' } }))).toBe('still works');
    const envNames = Object.keys(JSON.parse(text(await client.callTool({ name: 'env', arguments: {} }))) as Record<string, string>);
    expect(envNames).toContain('LD_PRELOAD');
    expect(envNames).not.toContain('GATEHOUSE_MASTER_KEY');
  });

  it('the master key is in no process environment: scrubbed from the gateway’s initial copy, never given to a child', async () => {
    const keyBytes = Buffer.from(masterKey);
    // Root reads /proc regardless of dumpable: this is the initial environment block itself.
    const gwEnviron = readFileSync(`/proc/${gateway.pid}/environ`);
    expect(gwEnviron.includes(keyBytes)).toBe(false);
    expect(gwEnviron.includes(Buffer.from('GATEHOUSE_MASTER_KEY='))).toBe(true); // the entry is there, its value zeroed
    expect(gwEnviron.includes(Buffer.from('HOME='))).toBe(true);
    const ready = await readyz();
    const childPid = ready.upstreams.local?.detail.instances[0]?.pid as number;
    for (const pid of [childPid, ...descendants(childPid)]) {
      const environ = readFileSync(`/proc/${pid}/environ`);
      expect(environ.includes(keyBytes)).toBe(false);
      expect(environ.includes(Buffer.from('GATEHOUSE_MASTER_KEY'))).toBe(false);
    }
    // The vault still works: the program got the canary the gateway decrypted with that key.
    expect(descendants(childPid).some((pid) => readFileSync(`/proc/${pid}/environ`).includes(Buffer.from(`ECHO_SECRET=${vaultCanary}`)))).toBe(true);
  });

  it('SIGABRT: the gateway writes no core file; the control process, started the same way, does (with its canary)', async () => {
    expect(coreFiles(controlCwd)).toEqual([]);
    control.kill('SIGABRT');
    expect((await exited(control)).signal).toBe('SIGABRT');
    const controlCores = await waitFor(() => coreFiles(controlCwd).length > 0 && coreFiles(controlCwd), 'control core file', 30_000);
    const coreBytes = statSync(path.join(controlCwd, controlCores[0] as string)).size;
    expect(coreBytes).toBeGreaterThan(0);
    process.stderr.write(`[hardening] control core file: ${(coreBytes / 1e6).toFixed(1)} MB\n`);
    // The kernel may still be writing it.
    await sleep(500);
    expect(filesContaining(controlCwd, controlCanary).map((f) => path.basename(f))).toEqual(controlCores);

    gateway.kill('SIGABRT');
    expect((await exited(gateway)).signal).toBe('SIGABRT');
    await sleep(1500);
    expect(coreFiles(gatewayCwd)).toEqual([]);
    expect(filesContaining(gatewayCwd, vaultCanary)).toEqual([]);
    expect(filesContaining(home, vaultCanary)).toEqual([]);
  });
});
