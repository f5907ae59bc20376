// A Debian package a test needs, installed when its program is missing (`apt-get install -y`,
// as root). If it cannot be, the caller fails loudly: no test is skipped silently.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Returns `binary` (an absolute path) once it exists, installing `pkg` if needed. */
export async function ensureDebianBinary(
  binary: string,
  pkg: string,
  log: (line: string) => void = (l) => process.stderr.write(`[apt] ${l}\n`),
): Promise<string> {
  if (existsSync(binary)) return binary;
  if (process.getuid?.() !== 0) throw new Error(`${binary} is missing and this process is not root, so it cannot run apt-get install -y ${pkg}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', pkg], { env, maxBuffer: 64 * 1024 * 1024 });
  log(`${binary} not found: apt-get install -y ${pkg}`);
  try {
    await install();
  } catch {
    log('apt-get install failed; running apt-get update and trying again');
    try {
      await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update'], { env, maxBuffer: 64 * 1024 * 1024 });
      await install();
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`apt-get install -y ${pkg} failed: ${(e.stderr || e.message).trim().split('\n').slice(-5).join(' | ')}`);
    }
  }
  if (!existsSync(binary)) throw new Error(`apt-get installed ${pkg} but ${binary} is still missing`);
  return binary;
}
