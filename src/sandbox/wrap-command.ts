import { bwrapArgs } from './bwrap-args.js';
import type { SandboxDecision } from './decide-sandbox.js';
import { programPaths } from './program-paths.js';
import type { ProtectedPaths } from './protected-paths.js';

/** Where the egress proxy's socket appears inside a sandbox. */
export const EGRESS_SOCKET_IN_SANDBOX = '/run/gatehouse/egress.sock';

export interface SpawnTarget {
  command: string;
  args: string[];
  cwd: string;
}

/** What to spawn for a sandboxed program: bubblewrap, its environment, and what it reads on fd 3. */
export interface WrappedTarget extends SpawnTarget {
  /** bubblewrap's own environment: no configured variable (and so no secret) is in it. */
  env: Record<string, string>;
  /** NUL-separated bubblewrap arguments read from fd 3: the program's environment and inner options. */
  fd3: Buffer;
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
    /** bubblewrap arguments applied to the program inside the sandbox (the non-dumpable preload). */
    innerArgs?: string[];
    /** The program's environment (its configured variables, secrets among them). */
    env: Record<string, string>;
    /** network: egress — the gateway's CONNECT proxy socket and the forwarder that runs the program. */
    egress?: { socket: string; forwarder: string; node: string } | undefined;
  },
): SpawnTarget | WrappedTarget {
  if (!sandbox.on) return target;
  const program = programPaths(target.command, target.args, target.cwd, context.searchPath, context.home);
  const egress = sandbox.network === 'egress' ? context.egress : undefined;
  if (sandbox.network === 'egress' && !egress) throw new Error('network: egress without a proxy');
  const node = egress ? programPaths(egress.node, [], '/', undefined, context.home) : undefined;
  const argv = bwrapArgs({
    network: sandbox.network,
    cwd: target.cwd,
    cwdGranted: context.cwdGranted,
    program: [...program.readable, ...(node && egress ? [...node.readable, egress.forwarder] : [])],
    readable: sandbox.readable,
    writable: sandbox.writable,
    protect: context.protect,
  });
  // bubblewrap must stay dumpable to set up its user namespace, so other processes of the same
  // user can read its /proc environ and cmdline: the program's environment goes through fd 3.
  const inner = ['--clearenv', ...Object.entries(context.env).flatMap(([name, value]) => ['--setenv', name, value]), ...(context.innerArgs ?? [])];
  // The proxy socket at a fixed path: the only thing outside the sandbox's empty network namespace it can reach.
  const proxied = node && egress ? ['--bind', egress.socket, EGRESS_SOCKET_IN_SANDBOX] : [];
  const run = node && egress ? [node.executable, egress.forwarder, EGRESS_SOCKET_IN_SANDBOX, program.executable] : [program.executable];
  return {
    command: sandbox.bwrap,
    args: [...argv, ...proxied, '--args', '3', '--', ...run, ...target.args],
    cwd: '/',
    env: context.env.PATH === undefined ? {} : { PATH: context.env.PATH },
    fd3: Buffer.from(inner.map((arg) => `${arg}\0`).join('')),
  };
}
