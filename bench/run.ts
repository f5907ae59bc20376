// `make bench`: runs every benchmark module, prints their tables and verdicts, and writes
// .bench/results.json. Benchmarks only print: a missed target is reported, never asserted.
//
//   node bench/run.ts [--only mcp-paths,memory] [--rounds 5] [--seconds 2.5] [--warmup 0.5] [--quick] [--keep] [--long]
//   (or BENCH_ONLY / BENCH_ROUNDS / BENCH_SECONDS / BENCH_WARMUP in the environment, for `make bench`)
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { memory } from './memory.ts';
import { metricsCost } from './metrics-cost.ts';
import { mcpPaths } from './mcp-paths.ts';
import { runPolicyBench } from './policy.ts';
import { runPostgresBench } from './postgres.ts';
import { runClusterBench } from './cluster.ts';
import { runSandboxBench } from './sandbox.ts';
import { runSanitizeBench } from './sanitize-engine.ts';
import { runSanitizeExitBench } from './sanitize-exit.ts';
import { sanitizePath } from './sanitize-path.ts';
import { stages } from './stages.ts';
import { auditSync } from './audit-sync.ts';
import { scaling } from './scaling.ts';
import { memoryLoad } from './memory-load.ts';
import { runHttpConnectorBench } from './http-connector.ts';
import { runConnectorSdkBench } from './connector-sdk.ts';
import { runCredentialBench } from './credentials.ts';
import { runTokenBench } from './tokens.ts';
import { rowsModule } from './lib/rows-module.ts';
import { describeMachine } from './lib/machine.ts';
import type { ServerProcess } from './lib/processes.ts';
import { renderSummary, renderTable, renderVerdicts } from './lib/table.ts';
import type { BenchContext, BenchModule, BenchOptions, BenchReport } from './lib/types.ts';

/** Every benchmark, in run order, each checking its issue's targets. */
const MODULES: readonly BenchModule[] = [
  // The gateway path against direct and mcp-proxy; memory with 100 sessions
  mcpPaths,
  // where the gateway's CPU per call goes, stage by stage (a CPU profile of the full pipeline)
  stages,
  // audit.sync: fsync (default) against os, same gateway build
  auditSync,
  // cost by result size (1 KB, 64 KB, 1 MB) and by policy count (3, 100, 1,000)
  scaling,
  memory,
  // RSS over 60 s of c=16 load in 10-s windows (leak check); --long only
  memoryLoad,
  // /mcp token verification on cache hit; token-endpoint issuances/s
  rowsModule('tokens', 'Tokens: verification and issuance', (ctx) => {
    ctx.progress('tokens: verification per call, then issuances/s at the token endpoint');
    return runTokenBench({ seconds: ctx.options.seconds, rounds: ctx.options.rounds });
  }),
  // The policy stage at 3 / 100 / 1,000 policies, sliced vs plain Cedar
  rowsModule('policy', 'Policy stage: sliced vs plain Cedar', (ctx) => {
    ctx.progress('policy: decisions at 3, 100 and 1,000 policies');
    return runPolicyBench({ iterations: ctx.options.rounds <= 1 ? 2_000 : 10_000 });
  }),
  // Leased query vs direct pg; JIT role mint
  rowsModule('postgres', 'PostgreSQL leases', (ctx) => runPostgresBench({ log: ctx.progress, rounds: ctx.options.rounds })),
  // the output sanitizer's detection engine on JSON tool results
  rowsModule('sanitize-engine', 'Output sanitizer detection engine', (ctx) => {
    ctx.progress('sanitize-engine: 4 KB, 64 KB and 1 MB JSON results, 1,000 held values, every detector');
    return runSanitizeBench({ seconds: ctx.options.seconds });
  }),
  // the HTTP connector over a direct undici call to the same local API, cached credential
  rowsModule('http-connector', 'HTTP connector overhead', (ctx) => {
    ctx.progress('http-connector: the example invoices API, direct undici vs the connector, alternating calls');
    return runHttpConnectorBench({ seconds: ctx.options.seconds, rounds: ctx.options.rounds, log: ctx.progress });
  }),
  // what a request pays for its HTTP API credential when cached, and the cold cost of a sealed token
  rowsModule('credentials', 'HTTP API credentials: cached vs cold', (ctx) => {
    ctx.progress('credentials: apiKey and userOAuth providers, cached per request vs a constant header; opening a sealed token');
    return runCredentialBench({ iterations: ctx.options.seconds < 2 ? 20_000 : 100_000 });
  }),
  // an SDK connector in its own (sandboxed) process vs the in-process HTTP connector, same API call
  rowsModule('connector-sdk', 'Connector SDK per-call cost', (ctx) => {
    ctx.progress('connector-sdk: the example invoices API, HTTP connector vs SDK connector process, alternating calls');
    return runConnectorSdkBench({ seconds: ctx.options.seconds, rounds: ctx.options.rounds, log: ctx.progress });
  }),
  // stdio upstreams under bubblewrap vs unconfined: process start and per-call latency
  rowsModule('sandbox', 'Upstream sandbox cost (bubblewrap)', (ctx) =>
    runSandboxBench({ log: ctx.progress, rounds: ctx.options.rounds, seconds: ctx.options.seconds, starts: ctx.options.rounds <= 1 ? 5 : 10 }),
  ),

  // the whole exit point (walk, detect, act, rebuild) on tool results, and the gateway path with it
  rowsModule('sanitize-exit', 'Output sanitizer exit point on tool results', (ctx) => {
    ctx.progress('sanitize-exit: 4 KB, 64 KB and 1 MB tool results through the whole exit point');
    return runSanitizeExitBench({ seconds: ctx.options.seconds });
  }),
  sanitizePath,
  // metrics and traces on vs off, same run
  metricsCost,
  // nginx round robin over 1, 2 and 3 nodes on PostgreSQL; PostgreSQL vs SQLite audit path on one node
  rowsModule('cluster', 'Cluster: nodes behind nginx on PostgreSQL', (ctx) => runClusterBench(ctx)),
];

function options(): { only: string[] | undefined; options: BenchOptions } {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: process.env.BENCH_ONLY },
      rounds: { type: 'string', default: process.env.BENCH_ROUNDS },
      seconds: { type: 'string', default: process.env.BENCH_SECONDS },
      warmup: { type: 'string', default: process.env.BENCH_WARMUP },
      quick: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      long: { type: 'boolean', default: process.env.BENCH_LONG === '1' },
    },
  });
  const num = (value: string | undefined, fallback: number, name: string) => {
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
    return n;
  };
  return {
    only: values.only ? values.only.split(',').map((s) => s.trim()) : undefined,
    options: {
      rounds: Math.round(num(values.rounds, values.quick ? 1 : 5, 'rounds')),
      seconds: num(values.seconds, values.quick ? 1 : 2.5, 'seconds'),
      warmupSeconds: num(values.warmup, 0.5, 'warmup'),
      keep: values.keep ?? false,
      long: values.long ?? false,
    },
  };
}

async function main(): Promise<number> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const benchDir = path.join(root, '.bench');
  mkdirSync(benchDir, { recursive: true });
  const { only, options: opts } = options();
  const unknown = only?.filter((name) => !MODULES.some((m) => m.name === name)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown module(s) ${unknown.join(', ')}; known: ${MODULES.map((m) => m.name).join(', ')}\n`);
    return 2;
  }
  const modules = MODULES.filter((m) => !only || only.includes(m.name));

  const live = new Set<ServerProcess>();
  const ctx: BenchContext = {
    root,
    benchDir,
    options: opts,
    progress: (text) => process.stderr.write(`  ${text}\n`),
    track(proc) {
      live.add(proc);
      return proc;
    },
  };
  // Whatever happens, leave no server behind.
  const killAll = () => {
    for (const proc of live) proc.killGroup();
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping servers\n`);
      killAll();
      process.exit(130);
    });
  }

  const machine = describeMachine(benchDir);
  const startedAt = new Date().toISOString();
  process.stderr.write(
    `bench: ${modules.map((m) => m.name).join(', ')} · ${machine.cpus} CPUs (${machine.cpuModel}) · load average ${machine.loadavgStart.map((l) => l.toFixed(2)).join(' ')} · fsync p50 ${machine.fsyncP50Ms.toFixed(2)} ms, p99 ${machine.fsyncP99Ms.toFixed(2)} ms · Node ${machine.node}\n`,
  );
  const results: { name: string; title: string; report?: BenchReport; error?: string; seconds: number }[] = [];
  for (const module of modules) {
    process.stderr.write(`\n${module.title}\n`);
    const started = Date.now();
    try {
      const report = await module.run(ctx);
      results.push({ name: module.name, title: module.title, report, seconds: (Date.now() - started) / 1000 });
    } catch (error) {
      process.stderr.write(`bench: ${module.name} failed: ${(error as Error).stack ?? String(error)}\n`);
      results.push({ name: module.name, title: module.title, error: (error as Error).message, seconds: (Date.now() - started) / 1000 });
    }
  }
  // A module that failed half-way may have left servers running; they would keep this process alive.
  for (const proc of live) if (proc.running) await proc.stop(5_000);
  const loadavgEnd = loadavg();

  process.stdout.write('\n');
  for (const result of results) {
    if (result.error) {
      process.stdout.write(`${result.title}: FAILED: ${result.error}\n\n`);
      continue;
    }
    for (const table of result.report?.tables ?? []) process.stdout.write(`${renderTable(table)}\n\n`);
  }
  const verdicts = results.flatMap((r) => (r.report?.verdicts ?? []).map((v) => ({ ...v, module: r.name })));
  if (verdicts.length > 0) process.stdout.write(`Targets\n${renderVerdicts(verdicts)}\n`);
  process.stdout.write(`\n${renderSummary(results, verdicts)}\n`);
  process.stdout.write(
    `\nMachine: ${machine.cpus} CPUs, load average ${machine.loadavgStart.map((l) => l.toFixed(2)).join(' ')} at start, ${loadavgEnd.map((l) => l.toFixed(2)).join(' ')} at end; ` +
      `fsync on this disk p50 ${machine.fsyncP50Ms.toFixed(2)} ms, p99 ${machine.fsyncP99Ms.toFixed(2)} ms (a floor under every durable audit write).\n` +
      'Numbers from a shared or busy machine are indicative only.\n',
  );

  const file = path.join(benchDir, 'results.json');
  writeFileSync(
    file,
    `${JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), machine: { ...machine, loadavgEnd }, options: opts, modules: results }, null, 2)}\n`,
  );
  process.stdout.write(`Results: ${path.relative(process.cwd(), file) || file}\n`);
  return results.some((r) => r.error) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
