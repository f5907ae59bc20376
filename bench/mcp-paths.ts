// The same echo tool through four paths — (a) direct Streamable HTTP to the
// upstream, (b) mcp-proxy fronting the stdio server, (c) Gatehouse fronting it with
// authentication and the durable audit log on, in the session era and (d) in the stateless
// 2026-07-28 revision — at concurrency 1 and 16.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cpuSecondsOf, cpuSecondsOfTree, memoryOf } from './lib/processes.ts';
import { startDirect, startGatehouse, startMcpProxy, type BenchTarget, type PathName } from './lib/servers.ts';
import { fmtInt, fmtMb, fmtMs, fmtRatio, median } from './lib/table.ts';
import type { BenchContext, BenchModule, BenchReport, Table, Verdict } from './lib/types.ts';
import { runLoadWorker } from './lib/worker.ts';

const CONCURRENCY = [1, 16] as const;
// BENCH_BASE_DIST=<another build's dist/> adds that build as `gatehouse-base`, interleaved in the
// same rounds, so a change is measured against its base under the same load.
const BASE_DIST = process.env.BENCH_BASE_DIST;
const PATHS: readonly PathName[] = ['direct', 'mcp-proxy', 'gatehouse', 'gatehouse-2026', ...(BASE_DIST ? (['gatehouse-base'] as const) : [])];
const TOOL = 'echo';
const ARGS = { text: 'hello from the benchmark' };

interface Run {
  path: PathName;
  concurrency: number;
  round: number;
  callsPerSec: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  calls: number;
  errors: number;
  /** CPU of the server process and its children (the upstream), per call. */
  serverCpuUsPerCall: number;
  /** The same, for the server process alone (without the stdio upstream). */
  serverOwnCpuUsPerCall: number;
}

interface Cell {
  path: PathName;
  concurrency: number;
  callsPerSec: number;
  minCallsPerSec: number;
  maxCallsPerSec: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuUsPerCall: number;
  serverOwnCpuUsPerCall: number;
  errors: number;
  /** Medians of per-round ratios (runs of the same round ran back to back). */
  vsDirect: number;
  vsMcpProxy: number;
  p50VsMcpProxy: number;
  /** Rounds in which this path beat mcp-proxy on both throughput and p50. */
  roundsAheadOfMcpProxy: number;
  rounds: number;
}

async function measure(target: BenchTarget, concurrency: number, durationMs: number, warmupMs: number): Promise<Omit<Run, 'round'>> {
  // A token of its own per run: its first call verifies it from scratch, as an agent's first
  // call does, instead of every run riding on a verification cached by the warm-up.
  const headers = await target.headers(undefined, true);
  const pid = target.process.pid;
  const cpuBefore = cpuSecondsOfTree(pid);
  const ownBefore = cpuSecondsOf(pid);
  const result = await runLoadWorker({
    target: { name: target.name, url: target.url, headers, stateless: target.stateless === true },
    concurrency,
    durationMs,
    warmupMs,
    tool: TOOL,
    args: ARGS,
  });
  const cpu = cpuSecondsOfTree(pid) - cpuBefore;
  const own = cpuSecondsOf(pid) - ownBefore;
  return {
    path: target.name,
    concurrency,
    callsPerSec: result.callsPerSec,
    meanMs: result.meanMs,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    calls: result.calls,
    errors: result.errors,
    serverCpuUsPerCall: result.allCalls > 0 ? (cpu * 1e6) / result.allCalls : NaN,
    serverOwnCpuUsPerCall: result.allCalls > 0 ? (own * 1e6) / result.allCalls : NaN,
  };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const n = by % items.length;
  return [...items.slice(n), ...items.slice(0, n)];
}

function summarise(runs: Run[]): Cell[] {
  const cells: Cell[] = [];
  for (const concurrency of CONCURRENCY) {
    const at = runs.filter((r) => r.concurrency === concurrency);
    const rounds = [...new Set(at.map((r) => r.round))];
    const pick = (path: PathName, round: number) => at.find((r) => r.path === path && r.round === round);
    for (const path of PATHS) {
      const mine = at.filter((r) => r.path === path);
      const pairs = (other: PathName, metric: 'callsPerSec' | 'p50Ms') =>
        median(rounds.map((round) => (pick(path, round)?.[metric] ?? NaN) / (pick(other, round)?.[metric] ?? NaN)));
      cells.push({
        path,
        concurrency,
        callsPerSec: median(mine.map((r) => r.callsPerSec)),
        minCallsPerSec: Math.min(...mine.map((r) => r.callsPerSec)),
        maxCallsPerSec: Math.max(...mine.map((r) => r.callsPerSec)),
        meanMs: median(mine.map((r) => r.meanMs)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        serverCpuUsPerCall: median(mine.map((r) => r.serverCpuUsPerCall)),
        serverOwnCpuUsPerCall: median(mine.map((r) => r.serverOwnCpuUsPerCall)),
        errors: mine.reduce((sum, r) => sum + r.errors, 0),
        vsDirect: pairs('direct', 'callsPerSec'),
        vsMcpProxy: pairs('mcp-proxy', 'callsPerSec'),
        p50VsMcpProxy: pairs('mcp-proxy', 'p50Ms'),
        roundsAheadOfMcpProxy: rounds.filter((round) => {
          const mine = pick(path, round);
          const proxy = pick('mcp-proxy', round);
          return mine && proxy && mine.callsPerSec >= proxy.callsPerSec && mine.p50Ms <= proxy.p50Ms;
        }).length,
        rounds: rounds.length,
      });
    }
  }
  return cells;
}

function mcpProxyVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(root, 'node_modules', 'mcp-proxy', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const mcpPaths: BenchModule = {
  name: 'mcp-paths',
  title: 'MCP paths: direct vs mcp-proxy vs Gatehouse',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const { rounds, seconds, warmupSeconds } = ctx.options;
    const proxyVersion = mcpProxyVersion(ctx.root);
    ctx.progress('starting the three paths: echo server over HTTP, mcp-proxy + stdio echo, gatehouse start + stdio echo');
    const targets: BenchTarget[] = [];
    const runs: Run[] = [];
    const peaks = new Map<PathName, ReturnType<typeof memoryOf>>();
    let gatehouseData: string | undefined;
    try {
      targets.push(await startDirect(ctx), await startMcpProxy(ctx));
      const gatehouse = await startGatehouse(ctx, 'gatehouse', [], { pipeline: 'full' });
      gatehouseData = gatehouse.dataDir;
      // The same gateway process, driven in the stateless revision (no session, metadata on every request).
      targets.push(gatehouse, { ...gatehouse, name: 'gatehouse-2026', stateless: true });
      if (BASE_DIST) targets.push({ ...(await startGatehouse(ctx, 'gatehouse-base', [], { pipeline: 'full', dist: BASE_DIST })), name: 'gatehouse-base' });
      // JIT and connection warm-up for every server before anything is recorded.
      for (const target of targets) {
        ctx.progress(`warm-up: ${target.name}`);
        await measure(target, 16, 500, 2000);
      }
      // Rounds interleave the paths (rotating the order), so drift on a busy machine hits all alike.
      for (const concurrency of CONCURRENCY) {
        for (let round = 0; round < rounds; round++) {
          for (const target of rotate(targets, round)) {
            const run = { ...(await measure(target, concurrency, seconds * 1000, warmupSeconds * 1000)), round };
            runs.push(run);
            ctx.progress(
              `c=${concurrency} round ${round + 1}/${rounds} ${target.name.padEnd(9)} ${fmtInt(run.callsPerSec).padStart(6)} calls/s  mean ${fmtMs(run.meanMs)} ms  p50 ${fmtMs(run.p50Ms)} ms  p99 ${fmtMs(run.p99Ms)} ms${run.errors ? `  ${run.errors} errors` : ''}`,
            );
          }
        }
      }
      for (const target of targets) peaks.set(target.name, memoryOf(target.process.pid));
    } finally {
      for (const process of new Set(targets.map((t) => t.process))) await process.stop();
      if (gatehouseData && !ctx.options.keep) rmSync(gatehouseData, { recursive: true, force: true });
    }

    const cells = summarise(runs);
    const table: Table = {
      title: `MCP paths: echo tool, mcp-proxy ${proxyVersion}, median of ${rounds} interleaved runs per cell (${seconds} s measured after ${warmupSeconds} s warm-up, one session per run)`,
      columns: ['conc', 'path', 'calls/s', 'spread', 'mean ms', 'p50 ms', 'p99 ms', 'CPU µs/call', '(own)', '× direct', '× mcp-proxy', 'p50 × mcp-proxy'],
      rows: cells.map((c) => [
        c.concurrency,
        c.path,
        fmtInt(c.callsPerSec),
        `${Math.round(((c.maxCallsPerSec - c.minCallsPerSec) / c.callsPerSec) * 100)}%`,
        fmtMs(c.meanMs),
        fmtMs(c.p50Ms),
        fmtMs(c.p99Ms),
        fmtInt(c.serverCpuUsPerCall),
        c.path === 'direct' ? '' : fmtInt(c.serverOwnCpuUsPerCall),
        c.path === 'direct' ? '1.00×' : fmtRatio(c.vsDirect),
        c.path.startsWith('gatehouse') ? fmtRatio(c.vsMcpProxy) : c.path === 'mcp-proxy' ? '1.00×' : '',
        c.path.startsWith('gatehouse') ? fmtRatio(c.p50VsMcpProxy) : c.path === 'mcp-proxy' ? '1.00×' : '',
      ]),
      notes: [
        'spread: (max − min) / median calls/s over the rounds. Ratios are medians of per-round pairs.',
        'CPU µs/call: the server process plus its children (the stdio upstream), from /proc, per call made (warm-up included); (own): without the upstream.',
        'Gatehouse: the full pipeline — bearer JWT (EdDSA), Cedar with 1,000 policies, argument validation, rate limits, the approvals stage (not triggered), write-ahead audit (SQLite WAL group commit, fdatasync before the upstream call), broker, and the sanitizer with 1,000 held values and every detector. mcp-proxy: its defaults. All three front the same echo server (bench/echo-stdio.ts; direct: the same tools over HTTP).',
        'Every run opens a new session with a token minted for the run (no verification cache carried over from another run); every path gets the same warm-up.',
      ],
    };
    if (peaks.size > 0) {
      table.notes?.push(
        `Peak RSS under this load (VmHWM, server process only): ${PATHS.map((p) => `${p} ${fmtMb(peaks.get(p)?.hwmBytes ?? NaN)}`).join(', ')}.`,
      );
    }
    const errors = cells.filter((c) => c.errors > 0);
    if (errors.length > 0)
      table.notes?.push(`ERRORS: ${errors.map((c) => `${c.path} c=${c.concurrency}: ${c.errors}`).join(', ')} — those cells are not trustworthy.`);
    const spread = Math.max(...cells.map((c) => (c.maxCallsPerSec - c.minCallsPerSec) / c.callsPerSec));
    if (spread > 0.25)
      table.notes?.push(`Runs of one cell varied by up to ${Math.round(spread * 100)}%: the machine was busy. Re-run on a quiet machine for final numbers.`);

    const verdicts: Verdict[] = CONCURRENCY.map((concurrency) => {
      const gh = cells.find((c) => c.path === 'gatehouse' && c.concurrency === concurrency) as Cell;
      const proxy = cells.find((c) => c.path === 'mcp-proxy' && c.concurrency === concurrency) as Cell;
      const pass = gh.vsMcpProxy >= 1.0 && gh.p50VsMcpProxy <= 1.0 && gh.errors === 0;
      return {
        target: `c=${concurrency}: Gatehouse ≥ 1.0× mcp-proxy throughput, p50 ≤ mcp-proxy's`,
        pass,
        detail: `${fmtRatio(gh.vsMcpProxy)} throughput (${fmtInt(gh.callsPerSec)} vs ${fmtInt(proxy.callsPerSec)} calls/s), p50 ${fmtMs(gh.p50Ms)} vs ${fmtMs(proxy.p50Ms)} ms (${fmtRatio(gh.p50VsMcpProxy)}); ahead on both in ${gh.roundsAheadOfMcpProxy}/${gh.rounds} rounds`,
      };
    });
    return { tables: [table], verdicts, data: { cells, runs, peakRss: Object.fromEntries(peaks) } };
  },
};
