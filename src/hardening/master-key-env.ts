import { loadedAddon } from './process-hardening.js';

/** What happened to a secret variable's copies in this process. */
export interface EnvironmentScrub {
  /** The variable was set when the process started. */
  present: boolean;
  /** Removed from process.env (so no child, worker or later read sees it). */
  removed: boolean;
  /** Entries overwritten in the initial environment block (what /proc/<pid>/environ shows). */
  initialCopiesScrubbed: number;
  /** Why the initial copy could not be overwritten, when it could not. */
  reason?: string;
}

/**
 * Takes `name` out of this process's environment and returns a snapshot that still holds it,
 * for the one reader that needs it. `delete process.env[name]` alone calls unsetenv(), which
 * drops only the pointer: the bytes the kernel copied at execve stay on the stack and
 * /proc/<pid>/environ keeps showing them, so the addon overwrites them as well.
 */
export function takeFromEnvironment(name: string): { env: NodeJS.ProcessEnv; scrub: EnvironmentScrub } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const present = process.env[name] !== undefined;
  let initialCopiesScrubbed = 0;
  let reason: string | undefined;
  const load = loadedAddon();
  if (load?.ok) {
    try {
      initialCopiesScrubbed = load.addon.scrubInitialEnvironment(name);
    } catch (error) {
      reason = (error as Error).message;
    }
  } else {
    reason = load ? load.reason : 'process hardening was not applied';
  }
  delete process.env[name];
  const removed = process.env[name] === undefined;
  return { env, scrub: { present, removed, initialCopiesScrubbed, ...(present && reason ? { reason } : {}) } };
}
