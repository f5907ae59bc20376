import { bwrapArgs } from './bwrap-args.js';
import type { SandboxDecision } from './decide-sandbox.js';
import { programPaths } from './program-paths.js';
import type { ProtectedPaths } from './protected-paths.js';

export interface SpawnTarget {
  command: string;
  args: string[];
  cwd: string;
}

/**
 * The process to spawn for a stdio upstream: bubblewrap around the configured command when the
 * sandbox is on, else the command itself. Paths are resolved at each spawn: a restart after an
 * upgrade of the server's package binds its new location.
 */
export function wrapCommand(
  target: SpawnTarget,
  sandbox: SandboxDecision,
  context: {
    searchPath: string | undefined;
    home: string | undefined;
    protect: ProtectedPaths;
    cwdGranted: boolean;
    /** Extra bubblewrap arguments before the program (the hardening preload, bound and set inside). */
    extraArgs?: readonly string[];
  },
): SpawnTarget {
  if (!sandbox.on) return target;
  const program = programPaths(target.command, target.args, target.cwd, context.searchPath, context.home);
  const argv = bwrapArgs({
    network: sandbox.network,
    cwd: target.cwd,
    cwdGranted: context.cwdGranted,
    program: program.readable,
    readable: sandbox.readable,
    writable: sandbox.writable,
    protect: context.protect,
  });
  return { command: sandbox.bwrap, args: [...argv, ...(context.extraArgs ?? []), '--', program.executable, ...target.args], cwd: '/' };
}
