// Debian's Chromium for the console's browser test, installed from Debian's packages when
// missing (`apt-get install -y chromium`, as root). If it cannot be, the caller fails loudly:
// no test is skipped silently.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a headless, quiet, self-contained run (no sandbox: CI containers run as root). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export class ChromiumUnavailableError extends Error {}

export async function ensureChromium(options: { install?: boolean; log?: (line: string) => void } = {}): Promise<string> {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const log = options.log ?? (() => undefined);
  if (!options.install) throw new ChromiumUnavailableError(`${CHROMIUM} is missing: install the Debian package "chromium"`);
  if (process.getuid?.() !== 0)
    throw new ChromiumUnavailableError(`${CHROMIUM} is missing and this process is not root, so it cannot run apt-get install -y chromium`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for the dpkg lock rather than fail when another installation (PostgreSQL's) holds it.
  const install = () =>
    run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', 'chromium'], { env, maxBuffer: 64 * 1024 * 1024 });
  log('Chromium not found: apt-get install -y chromium');
  try {
    await install();
  } catch {
    log('apt-get install failed; running apt-get update and trying again');
    try {
      await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update'], { env, maxBuffer: 64 * 1024 * 1024 });
      await install();
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new ChromiumUnavailableError(`apt-get install -y chromium failed: ${(e.stderr || e.message).trim().split('\n').slice(-5).join(' | ')}`);
    }
  }
  if (!existsSync(CHROMIUM)) throw new ChromiumUnavailableError(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}
