import path from 'node:path';
import { NODUMP_PRELOAD_PATH } from './addon.js';
import { childPreloadAvailable } from './process-hardening.js';

/**
 * The environment a child of the gateway runs with, plus the preload library that clears its
 * dumpable flag. execve resets the flag to 1 for the new image, so the gateway's own setting
 * does not carry over; a constructor in an LD_PRELOAD library runs in the new image before its
 * main() and clears it again, and LD_PRELOAD is inherited by the child's own children.
 * RLIMIT_CORE needs nothing here: the gateway's 0/0 limit is inherited across fork and execve,
 * and an unprivileged child cannot raise a hard limit.
 * Statically linked programs (Go binaries, for instance) ignore LD_PRELOAD and stay dumpable.
 *
 * bubblewrap itself must stay dumpable: a non-dumpable process cannot write its own
 * /proc/self/uid_map, so `bwrap --unshare-user` would fail. A sandboxed child gets the preload
 * inside the sandbox instead (sandboxPreloadArgs).
 */
export function withChildHardening(command: string, env: Record<string, string>): Record<string, string> {
  if (!childPreloadAvailable() || path.basename(command) === 'bwrap') return env;
  return { ...env, LD_PRELOAD: preloadValue(env.LD_PRELOAD) };
}

/** bubblewrap arguments that make the sandboxed program non-dumpable (empty without the library). */
export function sandboxPreloadArgs(env: Record<string, string>): string[] {
  if (!childPreloadAvailable()) return [];
  return ['--ro-bind', NODUMP_PRELOAD_PATH, NODUMP_PRELOAD_PATH, '--setenv', 'LD_PRELOAD', preloadValue(env.LD_PRELOAD)];
}

function preloadValue(existing: string | undefined): string {
  return existing ? `${NODUMP_PRELOAD_PATH}:${existing}` : NODUMP_PRELOAD_PATH;
}
