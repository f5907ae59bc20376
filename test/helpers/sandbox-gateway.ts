/**
 * A gateway run as an unprivileged user (root reads every file, so a sandbox test run as root
 * could not fail): its folder, data dir, home and master key belong to that user, and the CLI
 * commands that touch the data dir run as that user too.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, GatewayProcess, NODE, spawnTracked, tempDir, waitFor, writeConfig, type CliResult } from './e2e.js';
import type { TestUser } from './bubblewrap.js';

export interface UserGateway {
  gateway: GatewayProcess;
  /** The folder holding config, data dir, home and shared files. */
  root: string;
  dataDir: string;
  home: string;
  keyFile: string;
  /** The master key as written to the key file (a canary: no upstream may see it). */
  masterKey: string;
  /** A value only in the gateway's own environment. */
  environCanary: string;
  token(sub: string): Promise<string>;
}

function chownTree(dir: string, user: TestUser): void {
  chownSync(dir, user.uid, user.gid);
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) chownTree(p, user);
    else chownSync(p, user.uid, user.gid);
  }
}

/** `setpriv` to the user and its group only: no supplementary groups of root carry over. */
export function asUser(user: TestUser, command: string, args: string[]): [string, string[]] {
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', command, ...args]];
}

/**
 * Starts `gatehouse start` as `user` with `config` (servers, access) written into `root`;
 * `prepare` may add files to `root` first (they are handed to the user too).
 */
export async function startGatewayAs(
  user: TestUser,
  config: (root: string) => Record<string, unknown>,
  prepare?: (root: string) => void,
): Promise<UserGateway> {
  const root = tempDir('gh-sbx-');
  chmodSync(root, 0o755);
  const dataDir = path.join(root, 'data');
  const home = path.join(root, 'home');
  const keyFile = path.join(home, '.config', 'gatehouse', 'master.key');
  mkdirSync(path.dirname(keyFile), { recursive: true });
  const masterKey = randomBytes(32).toString('base64');
  writeFileSync(keyFile, `${masterKey}\n`, { mode: 0o600 });
  prepare?.(root);
  chownTree(root, user);
  const environCanary = `environ-canary-${randomBytes(12).toString('hex')}`;
  const env = { PATH: process.env.PATH ?? '', HOME: home, GATEWAY_CANARY: environCanary };
  const { configPath, port } = await writeConfig(root, config(root));
  chownSync(configPath, user.uid, user.gid);
  const [command, args] = asUser(user, NODE, [CLI, 'start', '--config', configPath, '--data-dir', dataDir]);
  const child = spawnTracked(command, args, { env, cwd: root });
  child.stdin.end();
  const gateway = new GatewayProcess(child, port, dataDir, configPath);
  await Promise.race([
    waitFor(() => gateway.stdout.includes('Gatehouse ready at'), 'Gatehouse ready', 30_000),
    gateway.exit.then((e) => Promise.reject(new Error(`gatehouse start exited (${JSON.stringify(e)}):\n${gateway.stdout}\n${gateway.stderr}`))),
  ]);
  const run = (cliArgs: string[]): Promise<CliResult> => cliAs(asUser(user, NODE, [CLI, ...cliArgs])[1], env);
  return {
    gateway,
    root,
    dataDir,
    home,
    keyFile,
    masterKey,
    environCanary,
    async token(sub: string) {
      const result = await run(['token', 'issue', '--data-dir', dataDir, '--sub', sub]);
      if (result.code !== 0) throw new Error(`token issue failed: ${result.stderr}`);
      return result.stdout.trim();
    },
  };
}

/** Runs `setpriv <args>` (ending in `node cli …`) like cli() runs the CLI. */
function cliAs(setprivArgs: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked('setpriv', setprivArgs, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end();
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
