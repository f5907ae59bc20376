// Debian's bubblewrap for the sandbox tests and benchmark, installed from Debian's packages when
// missing (`apt-get install -y bubblewrap`, as root); and an unprivileged user to run the
// gateway and its upstreams as, since root reads every file whatever the sandbox hides. If
// either cannot be had, the caller fails loudly: no test is skipped silently.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const BWRAP = '/usr/bin/bwrap';
/** The unprivileged account the sandbox tests run the gateway as. */
export const SANDBOX_TEST_USER = 'gatehouse-sbx';

export class BubblewrapUnavailableError extends Error {}

export async function ensureBubblewrap(options: { install?: boolean; log?: (line: string) => void } = {}): Promise<string> {
  if (existsSync(BWRAP)) return BWRAP;
  const log = options.log ?? (() => undefined);
  if (!options.install) throw new BubblewrapUnavailableError(`${BWRAP} is missing: install the Debian package "bubblewrap"`);
  if (process.getuid?.() !== 0)
    throw new BubblewrapUnavailableError(`${BWRAP} is missing and this process is not root, so it cannot run apt-get install -y bubblewrap`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for the dpkg lock rather than fail when another installation (PostgreSQL's) holds it.
  const install = () =>
    run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', 'bubblewrap'], { env, maxBuffer: 64 * 1024 * 1024 });
  log('bubblewrap not found: apt-get install -y bubblewrap');
  try {
    await install();
  } catch {
    log('apt-get install failed; running apt-get update and trying again');
    try {
      await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update'], { env, maxBuffer: 64 * 1024 * 1024 });
      await install();
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new BubblewrapUnavailableError(`apt-get install -y bubblewrap failed: ${(e.stderr || e.message).trim().split('\n').slice(-5).join(' | ')}`);
    }
  }
  if (!existsSync(BWRAP)) throw new BubblewrapUnavailableError(`apt-get installed bubblewrap but ${BWRAP} is still missing`);
  return BWRAP;
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
}

/** The unprivileged test account, created (useradd, no home, no login shell) when missing. */
export async function ensureTestUser(): Promise<TestUser> {
  const lookup = async () => {
    const [uid, gid] = await Promise.all([run('id', ['-u', SANDBOX_TEST_USER]), run('id', ['-g', SANDBOX_TEST_USER])]);
    return { name: SANDBOX_TEST_USER, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await lookup();
  } catch {
    if (process.getuid?.() !== 0) throw new BubblewrapUnavailableError(`user ${SANDBOX_TEST_USER} is missing and only root can create it`);
    try {
      await run('useradd', ['--system', '--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', SANDBOX_TEST_USER]);
    } catch (error) {
      // A parallel run may have created it in the meantime.
      if (!/already exists/.test((error as { stderr?: string }).stderr ?? '')) throw error;
    }
    return lookup();
  }
}
