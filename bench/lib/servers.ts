import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { benchHeldValues, FULL_HELD, heldEnvironment, heldEnvYaml, writePolicyFolder } from './full-pipeline.ts';
import { freePort, ServerProcess, waitForMcp } from './processes.ts';
import type { BenchContext } from './types.ts';

const run = promisify(execFile);

export type PathName = 'direct' | 'mcp-proxy' | 'gatehouse' | 'gatehouse-2026' | 'gatehouse-base';

/** A running MCP endpoint to drive: the process serving it, and the headers a call needs. */
export interface BenchTarget {
  name: PathName;
  url: string;
  process: ServerProcess;
  /**
   * Headers for one user (a bearer token for Gatehouse, reused for 4 minutes unless `fresh`;
   * none for the others).
   */
  headers(user?: string, fresh?: boolean): Promise<Record<string, string>>;
  /** Drive it with stateless (2026-07-28) requests instead of a session. */
  stateless?: boolean;
}

/** The stdio upstream: the fixture's echo server plus the `payload` tool (bench/echo-stdio.ts). */
function echoServer(ctx: BenchContext): string {
  return path.join(ctx.root, 'bench', 'echo-stdio.ts');
}

function logFile(ctx: BenchContext, name: string): string {
  mkdirSync(ctx.benchDir, { recursive: true });
  return path.join(ctx.benchDir, `${name}.log`);
}

/** (a) The echo server itself over Streamable HTTP (the SDK's server transport; see bench/echo-http.ts). */
export async function startDirect(ctx: BenchContext, label = 'direct'): Promise<BenchTarget> {
  const server = path.join(ctx.root, 'bench', 'echo-http.ts');
  const proc = ctx.track(new ServerProcess(label, process.execPath, [server, '0'], { cwd: ctx.root, logPath: logFile(ctx, label) }));
  const [, port] = await proc.waitForOutput(/listening (\d+)/);
  const url = `http://127.0.0.1:${port}/mcp`;
  await waitForMcp(url);
  return { name: 'direct', url, process: proc, headers: async () => ({}) };
}

/** (b) mcp-proxy from npm, with its defaults, fronting the stdio echo server. */
export async function startMcpProxy(ctx: BenchContext, label = 'mcp-proxy'): Promise<BenchTarget> {
  const port = await freePort();
  const bin = path.join(ctx.root, 'node_modules', 'mcp-proxy', 'dist', 'bin', 'mcp-proxy.mjs');
  const proc = ctx.track(
    new ServerProcess(label, process.execPath, [bin, '--port', String(port), '--host', '127.0.0.1', '--', process.execPath, echoServer(ctx)], {
      cwd: ctx.root,
      logPath: logFile(ctx, label),
    }),
  );
  const url = `http://127.0.0.1:${port}/mcp`;
  await waitForMcp(url);
  return { name: 'mcp-proxy', url, process: proc, headers: async () => ({}) };
}

export interface GatehouseOptions {
  /**
   * `full`: Cedar with `policies` policies instead of the access list, and 1,000 held values
   * (see full-pipeline.ts); `basic` (default): an access list and no held values.
   */
  pipeline?: 'full' | 'basic';
  /** Cedar policies in the full pipeline (default 1,000). */
  policies?: number;
  /** Extra environment of the gateway process (e.g. NODE_OPTIONS for a CPU profile). */
  env?: Record<string, string>;
  /** Another build's `dist/` to run instead of this one (an A/B of two builds in one run). */
  dist?: string;
}

/**
 * (c) The real gateway (`gatehouse start`, the built CLI) fronting the stdio echo server, with
 * authentication and the durable audit log on, in a fresh data dir under .bench/.
 */
export async function startGatehouse(
  ctx: BenchContext,
  label = 'gatehouse',
  extraConfig: readonly string[] = [],
  options: GatehouseOptions = {},
): Promise<BenchTarget & { dataDir: string }> {
  const dir = path.join(ctx.benchDir, label);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const config = path.join(dir, 'gatehouse.yaml');
  const full = options.pipeline === 'full';
  const held = full ? benchHeldValues(FULL_HELD) : [];
  writeFileSync(
    config,
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      'dataDir: ./data',
      'servers:',
      '  echo:',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(echoServer(ctx))}]`,
      ...(full ? heldEnvYaml(held.length, '    ') : []),
      ...(full
        ? [`policies: ${JSON.stringify(writePolicyFolder(dir, options.policies ?? 1000))}`]
        : ['access:', '  - allow: { groups: [bench], servers: [echo] }']),
      // The rate-limit stage stays in the path (its cost is measured) with limits a load test never reaches.
      'rateLimits:',
      "  user: { burst: '1000000/s', sustained: '100000000/m' }",
      "  tool: { burst: '1000000/s', sustained: '100000000/m' }",
      "  client: { burst: '1000000/s', sustained: '100000000/m' }",
      ...extraConfig,
      '',
    ].join('\n'),
  );
  const cli = path.join(options.dist ? path.resolve(ctx.root, options.dist) : path.join(ctx.root, 'dist'), 'cli', 'main.js');
  const env = { ...process.env, ...heldEnvironment(held), ...options.env };
  // BENCH_GATEWAY_NODE_ARGS: Node flags on the gateway's own command line (`node <flags> main.js
  // start`, as an operator writes them; some, like --min-semi-space-size, are refused in
  // NODE_OPTIONS), not the bench runner's, the upstream's or mcp-proxy's.
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(/\s+/).filter((a) => a.length > 0);
  const proc = ctx.track(
    new ServerProcess(label, process.execPath, [...nodeArgs, cli, 'start', '--config', config], { cwd: ctx.root, logPath: logFile(ctx, label), env }),
  );
  const [, url] = await proc.waitForOutput(/Gatehouse ready at (\S+)/, 60_000);
  const dataDir = path.join(dir, 'data');

  // Tokens last 5 minutes by default; mint per user and renew well before expiry.
  const tokens = new Map<string, { token: string; at: number }>();
  const headers = async (user = 'bench-user', fresh = false) => {
    let entry = tokens.get(user);
    if (fresh || !entry || Date.now() - entry.at > 4 * 60_000) {
      const { stdout } = await run(process.execPath, [cli, 'token', 'issue', '--data-dir', dataDir, '--sub', user, '--groups', full ? 'eng' : 'bench'], {
        cwd: ctx.root,
      });
      entry = { token: stdout.trim(), at: Date.now() };
      tokens.set(user, entry);
    }
    return { authorization: `Bearer ${entry.token}` };
  };
  await waitForMcp(url as string, await headers());
  return { name: 'gatehouse', url: url as string, process: proc, headers, dataDir };
}
