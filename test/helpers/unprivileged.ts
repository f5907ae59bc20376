// Running test processes as an unprivileged user. Root can read any process's memory and
// environment whatever its dumpable flag, so checks about what "another process of the same
// user" can do must run the gateway and the probe as someone else. When the tests already run
// unprivileged, that user is used as is. Nothing is skipped: a missing tool or user fails loudly.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, statSync } from 'node:fs';
import path from 'node:path';

export const PROBE_USER = 'gatehouse-probe';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** Prefix for a command line: runs the rest as this user (empty when already unprivileged). */
  prefix: string[];
  /** Hands `dir` to the user (mode 0700); returns it. */
  own(dir: string): string;
}

function requireTool(tool: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`${tool} is required for the unprivileged-process tests (Debian package ${pkg}) and is not installed`);
  }
}

/** Every directory above `file` must be searchable by `uid` (o+x); fixes those that are not, and says so. */
function ensureTraversable(file: string, log: (line: string) => void): void {
  let dir = path.dirname(path.resolve(file));
  const fixed: string[] = [];
  for (;;) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(dir, (mode & 0o7777) | 0o001);
      fixed.push(dir);
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (fixed.length > 0) log(`made searchable (o+x) for ${PROBE_USER}: ${fixed.join(', ')}`);
}

/** The user to run gateway and probes as: `gatehouse-probe` (created if missing) under root, else the current user. */
export function testUser(paths: string[], log: (line: string) => void = (l) => process.stderr.write(`[unprivileged] ${l}\n`)): TestUser {
  if (process.getuid?.() !== 0) {
    const uid = process.getuid?.() ?? -1;
    const gid = process.getgid?.() ?? -1;
    return {
      name: String(uid),
      uid,
      gid,
      prefix: [],
      own: (dir) => dir,
    };
  }
  requireTool('setpriv', 'util-linux');
  if (spawnSync('id', ['-u', PROBE_USER], { stdio: 'ignore' }).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', PROBE_USER], { encoding: 'utf8' });
    if (made.status !== 0 && spawnSync('id', ['-u', PROBE_USER], { stdio: 'ignore' }).status !== 0) {
      throw new Error(`cannot create the unprivileged test user ${PROBE_USER}: ${made.stderr || made.error?.message}`);
    }
    log(`created system user ${PROBE_USER}`);
  }
  const uid = Number(execFileSync('id', ['-u', PROBE_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', PROBE_USER], { encoding: 'utf8' }).trim());
  for (const p of paths) ensureTraversable(p, log);
  return {
    name: PROBE_USER,
    uid,
    gid,
    // Changing the uid away from 0 clears every capability: the process is a plain user process.
    prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'],
    own(dir) {
      chownSync(dir, uid, gid);
      chmodSync(dir, 0o700);
      return dir;
    },
  };
}
