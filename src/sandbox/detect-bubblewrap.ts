import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { NAMESPACE_FLAGS } from './bwrap-args.js';

export type BubblewrapProbe = { usable: true; path: string; version: string } | { usable: false; reason: string };

/** Where Debian installs it; looked for after the gateway's PATH. */
const DEBIAN_BWRAP = '/usr/bin/bwrap';

/** The first executable `bwrap` on `searchPath`, else Debian's, else undefined. */
export function findBubblewrap(searchPath: string | undefined, fallback: string = DEBIAN_BWRAP): string | undefined {
  const dirs = (searchPath ?? '').split(path.delimiter).filter((d) => path.isAbsolute(d));
  for (const candidate of [...dirs.map((d) => path.join(d, 'bwrap')), fallback]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here: keep looking
    }
  }
  return undefined;
}

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: {}, timeout: 5000, maxBuffer: 64 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code as number) : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (error && code === null ? error.message : '')) });
    });
  });
}

/**
 * Whether bubblewrap is installed AND works here: containers and hardened kernels often forbid
 * the user namespaces it needs, and then only a real trial run tells. The trial uses the same
 * namespace flags every sandboxed upstream gets, so "usable" means "upstreams will start".
 */
export async function detectBubblewrap(
  options: { searchPath?: string | undefined; bwrap?: string | undefined; fallback?: string } = {},
): Promise<BubblewrapProbe> {
  const bwrap = options.bwrap ?? findBubblewrap(options.searchPath, options.fallback);
  if (!bwrap) return { usable: false, reason: 'bubblewrap (bwrap) is not installed; on Debian/Ubuntu: apt-get install bubblewrap' };
  const version = await run(bwrap, ['--version']);
  if (version.code !== 0) return { usable: false, reason: `${bwrap} --version failed: ${firstLine(version.stderr) || `exit ${version.code}`}` };
  const trial = await run(bwrap, [...NAMESPACE_FLAGS, '--unshare-net', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', 'true']);
  if (trial.code !== 0) {
    const detail = firstLine(trial.stderr) || `exit ${trial.code}`;
    const hint = /namespace|uid map|permission|operation not permitted/i.test(detail) ? ' (user namespaces are not available to this user here)' : '';
    return { usable: false, reason: `bubblewrap cannot create a sandbox here: ${detail}${hint}` };
  }
  return { usable: true, path: bwrap, version: firstLine(version.stdout).replace(/^bubblewrap\s+/, '') };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 300) ?? '';
}
