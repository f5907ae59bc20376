// The cost of the upstream sandbox: a stdio MCP server (the echo fixture) started and called
// through the gateway's own spawn path (ChildProcessTransport + the SDK client), once unconfined
// and once under bubblewrap, interleaved round by round so both see the same machine load.
//
//   node bench/sandbox.ts            (standalone: prints the table)
//   import { runSandboxBench } from './sandbox.ts'   (the bench runner)
//
// Printed as ratios against the unconfined run of the same round; nothing here asserts.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
// The built gateway (`make bench` builds first): the exact code that spawns upstreams.
import { SandboxSchema } from '../dist/config/schema.js';
import { ChildProcessTransport } from '../dist/connectors/mcp-upstream/child-process-transport.js';
import { decideSandbox, detectBubblewrap, protectedPaths, wrapCommand, type SandboxDecision } from '../dist/sandbox/index.js';
import type { RowsResult } from './lib/rows-module.ts';
import { fmtMs, fmtRatio, median } from './lib/table.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ECHO = path.join(ROOT, 'test/fixtures/echo-server.mjs');

export interface SandboxBenchOptions {
  rounds?: number;
  /** Measured seconds of sequential calls per run. */
  seconds?: number;
  /** Process starts per run. */
  starts?: number;
  log?: (line: string) => void;
}

type Variant = 'unconfined' | 'sandboxed';

async function connect(decision: SandboxDecision, dir: string): Promise<{ client: Client; transport: ChildProcessTransport }> {
  const protect = protectedPaths({ dataDir: path.join(dir, 'data'), keyFiles: [], configPath: undefined, home: process.env.HOME });
  const target = wrapCommand({ command: process.execPath, args: [ECHO], cwd: dir }, decision, {
    searchPath: process.env.PATH,
    home: process.env.HOME,
    protect,
    cwdGranted: false,
    env: { PATH: process.env.PATH ?? '' },
  });
  const transport = new ChildProcessTransport({ env: { PATH: process.env.PATH ?? '' }, ...target, maxMessageBytes: 16 * 1024 * 1024 });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** Spawn → MCP initialize answered → tools/list answered: what a (re)start costs before the first call. */
async function startTime(decision: SandboxDecision, dir: string, starts: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < starts; i++) {
    const began = performance.now();
    const { client, transport } = await connect(decision, dir);
    await client.listTools();
    times.push(performance.now() - began);
    await client.close();
    await transport.close(500);
  }
  return times;
}

/** The sandbox's own setup, without any program start to hide it: `true` unconfined vs under bubblewrap. */
function setupTime(decision: SandboxDecision, dir: string, runs: number): number {
  const protect = protectedPaths({ dataDir: path.join(dir, 'data'), keyFiles: [], configPath: undefined, home: process.env.HOME });
  const target = wrapCommand({ command: '/usr/bin/true', args: [], cwd: dir }, decision, {
    searchPath: process.env.PATH,
    home: process.env.HOME,
    protect,
    cwdGranted: false,
    env: { PATH: process.env.PATH ?? '' },
  });
  const times: number[] = [];
  // bubblewrap reads the program's environment on fd 3 (see wrapCommand): give it a file there.
  const fd3Path = path.join(dir, 'fd3');
  writeFileSync(fd3Path, 'fd3' in target ? target.fd3 : Buffer.alloc(0));
  for (let i = 0; i < runs; i++) {
    const began = performance.now();
    const fd3 = openSync(fd3Path, 'r');
    const result = spawnSync(target.command, target.args, { cwd: target.cwd, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe', fd3] });
    closeSync(fd3);
    if (result.status !== 0) throw new Error(`${target.command} exited ${result.status}: ${String(result.stderr)}`);
    times.push(performance.now() - began);
  }
  return median(times);
}

/** Sequential tools/call round trips for `seconds`: per-call latency, p50 and mean. */
async function callLatency(decision: SandboxDecision, dir: string, seconds: number): Promise<{ p50: number; mean: number; calls: number }> {
  const { client, transport } = await connect(decision, dir);
  try {
    const call = () =>
      client.request({ method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello from the benchmark' } } }, CallToolResultSchema);
    for (let i = 0; i < 50; i++) await call(); // warm-up: JIT, page cache
    const samples: number[] = [];
    const until = performance.now() + seconds * 1000;
    while (performance.now() < until) {
      const t = performance.now();
      await call();
      samples.push(performance.now() - t);
    }
    return { p50: median(samples), mean: samples.reduce((a, b) => a + b, 0) / samples.length, calls: samples.length };
  } finally {
    await client.close();
    await transport.close(500);
  }
}

export async function runSandboxBench(options: SandboxBenchOptions = {}): Promise<RowsResult> {
  const log = options.log ?? (() => undefined);
  const rounds = options.rounds ?? 3;
  const seconds = options.seconds ?? 2;
  const starts = options.starts ?? 10;
  const title = 'Upstream sandbox (bubblewrap): start time and per-call latency';
  const probe = await detectBubblewrap({ searchPath: process.env.PATH });
  if (!probe.usable) return { title, rows: [], skipped: probe.reason };
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-bench-sandbox-'));
  try {
    const protect = protectedPaths({ dataDir: path.join(dir, 'data'), keyFiles: [], configPath: undefined, home: process.env.HOME });
    const decisions: Record<Variant, SandboxDecision> = {
      unconfined: decideSandbox('echo', SandboxSchema.parse({ mode: 'dangerously-off' }), probe, dir, protect),
      sandboxed: decideSandbox('echo', SandboxSchema.parse({}), probe, dir, protect),
    };
    const results: Record<Variant, { setup: number[]; start: number[]; p50: number[]; mean: number[] }> = {
      unconfined: { setup: [], start: [], p50: [], mean: [] },
      sandboxed: { setup: [], start: [], p50: [], mean: [] },
    };
    const ratios = { setup: [] as number[], start: [] as number[], p50: [] as number[], mean: [] as number[] };
    for (let round = 1; round <= rounds; round++) {
      log(`sandbox: round ${round}/${rounds}: ${starts} starts and ${seconds}s of calls, unconfined then sandboxed`);
      const per: Partial<Record<Variant, { setup: number; start: number; p50: number; mean: number }>> = {};
      for (const variant of ['unconfined', 'sandboxed'] as const) {
        const setup = setupTime(decisions[variant], dir, starts * 2);
        const start = median(await startTime(decisions[variant], dir, starts));
        const calls = await callLatency(decisions[variant], dir, seconds);
        per[variant] = { setup, start, p50: calls.p50, mean: calls.mean };
        results[variant].setup.push(setup);
        results[variant].start.push(start);
        results[variant].p50.push(calls.p50);
        results[variant].mean.push(calls.mean);
      }
      const u = per.unconfined as { setup: number; start: number; p50: number; mean: number };
      const s = per.sandboxed as { setup: number; start: number; p50: number; mean: number };
      ratios.setup.push(s.setup / u.setup);
      ratios.start.push(s.start / u.start);
      ratios.p50.push(s.p50 / u.p50);
      ratios.mean.push(s.mean / u.mean);
    }
    const row = (variant: Variant) => ({
      upstream: variant === 'unconfined' ? 'unconfined (dangerously-off)' : `sandboxed (bubblewrap ${probe.version}, network none)`,
      'spawn of true ms (p50)': fmtMs(median(results[variant].setup)),
      'true vs unconfined': variant === 'unconfined' ? '1.00×' : fmtRatio(median(ratios.setup)),
      'start ms (p50)': fmtMs(median(results[variant].start)),
      'start vs unconfined': variant === 'unconfined' ? '1.00×' : fmtRatio(median(ratios.start)),
      'call ms (p50)': fmtMs(median(results[variant].p50)),
      'call ms (mean)': fmtMs(median(results[variant].mean)),
      'call vs unconfined (p50)': variant === 'unconfined' ? '1.00×' : fmtRatio(median(ratios.p50)),
    });
    return {
      title,
      rows: [row('unconfined'), row('sandboxed')],
      notes: [
        `Spawn of true: /usr/bin/true run to exit, ${starts * 2} times per round (the sandbox's own setup cost, no program start to hide it).`,
        `Start: spawn → initialize → tools/list of the echo fixture (node), median of ${starts} starts per round; calls: sequential tools/call round trips for ${seconds}s.`,
        `Medians over ${rounds} interleaved rounds; ratios are per-round sandboxed/unconfined, then the median. Same spawn code as the gateway (ChildProcessTransport + wrapCommand).`,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runSandboxBench({ log: (line) => process.stderr.write(`${line}\n`) });
  console.log(result.skipped ? `${result.title}: skipped (${result.skipped})` : JSON.stringify(result, null, 2));
}
