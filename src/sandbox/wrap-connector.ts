import path from 'node:path';
import { bwrapArgs } from './bwrap-args.js';
import type { SandboxDecision } from './decide-sandbox.js';
import { programPaths } from './program-paths.js';
import type { ProtectedPaths } from './protected-paths.js';
import type { SpawnTarget, WrappedTarget } from './wrap-command.js';

export interface ConnectorSpawn {
  /** The Node.js executable (the gateway's own). */
  node: string;
  /** Node options, then the host script and the connector file. */
  args: string[];
  /** Folders the process reads: the connector's own, the SDK's, zod's. Nothing else of the gateway. */
  readable: string[];
  /** The connector's folder (its working directory). */
  cwd: string;
  env: Record<string, string>;
}

/**
 * bubblewrap around a connector process: no network at all (its HTTP goes through the gateway),
 * only Node's installation, the SDK and the connector's folder visible, the data dir, master
 * key and config file masked even when they lie inside a visible folder. Unlike wrapCommand,
 * script arguments do not widen what is visible: the host script's package is the gateway.
 */
export function wrapConnector(
  target: ConnectorSpawn,
  sandbox: SandboxDecision,
  context: { home: string | undefined; protect: ProtectedPaths; innerArgs: string[] },
): SpawnTarget | WrappedTarget {
  if (!sandbox.on) return { command: target.node, args: target.args, cwd: target.cwd };
  const program = programPaths(target.node, [], '/', undefined, context.home);
  const argv = bwrapArgs({
    network: 'none',
    cwd: target.cwd,
    cwdGranted: true,
    program: program.readable,
    readable: target.readable.map((p) => path.resolve(p)),
    writable: [],
    protect: context.protect,
  });
  const inner = ['--clearenv', ...Object.entries(target.env).flatMap(([name, value]) => ['--setenv', name, value]), ...context.innerArgs];
  return {
    command: sandbox.bwrap,
    args: [...argv, '--args', '3', '--', program.executable, ...target.args],
    cwd: '/',
    env: {},
    fd3: Buffer.from(inner.map((arg) => `${arg}\0`).join('')),
  };
}
