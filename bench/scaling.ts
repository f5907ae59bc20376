// How the cost grows: (1) with the result size — the `payload` tool returning ~1 KB, 64 KB and
// 1 MB JSON documents through direct, mcp-proxy and the full-pipeline gateway; (2) with the
// number of Cedar policies — the full pipeline with 3, 100 and 1,000 policies on the echo
// tool. Interleaved rounds, medians, ratios of per-round pairs.
import { rmSync } from 'node:fs';
import { startDirect, startGatehouse, startMcpProxy, type BenchTarget } from './lib/servers.ts';
import { fmtInt, fmtMs, fmtRatio, median } from './lib/table.ts';
import type { BenchContext, BenchModule, BenchReport, Table } from './lib/types.ts';
import { runLoadWorker } from './lib/worker.ts';

const SIZES = [
  ['1 KB', 1024],
  ['64 KB', 64 * 1024],
  ['1 MB', 1024 * 1024],
] as const;
const POLICY_COUNTS = [3, 100, 1000] as const;
const CONCURRENCY = [1, 16] as const;

interface Run {
  row: string;
  path: string;
  concurrency: number;
  round: number;
  callsPerSec: number;
  p50Ms: number;
  errors: number;
}

async function drive(target: BenchTarget, concurrency: number, seconds: number, warmup: number, tool: string, args: Record<string, unknown>) {
  return runLoadWorker({
    target: { name: target.name, url: target.url, headers: await target.headers(), stateless: target.stateless === true },
    concurrency,
    durationMs: seconds * 1000,
    warmupMs: warmup * 1000,
    tool,
    args,
  });
}

function summarise(runs: Run[], rows: readonly string[], paths: readonly string[], base: string, rounds: number): (string | number)[][] {
  const out: (string | number)[][] = [];
  for (const row of rows) {
    for (const concurrency of CONCURRENCY) {
      for (const path of paths) {
        const mine = runs.filter((r) => r.row === row && r.path === path && r.concurrency === concurrency);
        if (mine.length === 0) continue;
        const ratios: number[] = [];
        for (let round = 0; round < rounds; round++) {
          const a = mine.find((r) => r.round === round);
          const b = runs.find((r) => r.row === row && r.path === base && r.concurrency === concurrency && r.round === round);
          if (a && b) ratios.push(a.callsPerSec / b.callsPerSec);
        }
        out.push([
          row,
          concurrency,
          path,
          fmtInt(median(mine.map((r) => r.callsPerSec))),
          fmtMs(median(mine.map((r) => r.p50Ms))),
          mine.reduce((n, r) => n + r.errors, 0),
          path === base ? '1.00×' : fmtRatio(median(ratios)),
        ]);
      }
    }
  }
  return out;
}

export const scaling: BenchModule = {
  name: 'scaling',
  title: 'Cost by result size and by policy count',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const rounds = Math.min(ctx.options.rounds, 3);
    const { seconds, warmupSeconds } = ctx.options;
    const runs: Run[] = [];
    const started: (BenchTarget & { dataDir?: string })[] = [];
    try {
      // 1. Result size.
      ctx.progress('scaling: direct, mcp-proxy and the full-pipeline gateway, payload tool');
      const direct = await startDirect(ctx, 'direct-scaling');
      const proxy = await startMcpProxy(ctx, 'mcp-proxy-scaling');
      const full = await startGatehouse(ctx, 'gatehouse-scaling', [], { pipeline: 'full', policies: 1000 });
      started.push(direct, proxy, full);
      const paths: [string, BenchTarget][] = [
        ['direct', direct],
        ['mcp-proxy', proxy],
        ['gatehouse', full],
      ];
      for (const [label, bytes] of SIZES) {
        // Warm-up: also generates each upstream's eight variants of this size.
        for (const [, t] of paths) await drive(t, 4, 0.5, bytes >= 1 << 20 ? 4 : 1, 'payload', { bytes });
        for (const concurrency of CONCURRENCY) {
          for (let round = 0; round < rounds; round++) {
            for (const [path, t] of round % 2 === 0 ? paths : [...paths].reverse()) {
              const r = await drive(t, concurrency, seconds, warmupSeconds, 'payload', { bytes });
              runs.push({ row: label, path, concurrency, round, callsPerSec: r.callsPerSec, p50Ms: r.p50Ms, errors: r.errors });
              ctx.progress(`scaling: ${label} c=${concurrency} ${path} ${fmtInt(r.callsPerSec)} calls/s p50 ${fmtMs(r.p50Ms)} ms`);
            }
          }
        }
      }
      await direct.process.stop();
      await proxy.process.stop();

      // 2. Policy count (the 1,000-policy gateway above is reused).
      const byCount: [string, BenchTarget][] = [];
      for (const count of POLICY_COUNTS) {
        const target = count === 1000 ? full : await startGatehouse(ctx, `gatehouse-policies-${count}`, [], { pipeline: 'full', policies: count });
        if (target !== full) started.push(target);
        byCount.push([`${count} policies`, target]);
        await drive(target, 16, 0.3, 1, 'echo', { text: 'warm-up' });
      }
      for (const concurrency of CONCURRENCY) {
        for (let round = 0; round < rounds; round++) {
          for (const [row, t] of round % 2 === 0 ? byCount : [...byCount].reverse()) {
            const r = await drive(t, concurrency, seconds, warmupSeconds, 'echo', { text: 'hello from the benchmark' });
            runs.push({ row, path: 'gatehouse', concurrency, round, callsPerSec: r.callsPerSec, p50Ms: r.p50Ms, errors: r.errors });
            ctx.progress(`scaling: ${row} c=${concurrency} ${fmtInt(r.callsPerSec)} calls/s p50 ${fmtMs(r.p50Ms)} ms`);
          }
        }
      }
    } finally {
      for (const t of started) {
        await t.process.stop();
        if (t.dataDir && !ctx.options.keep) rmSync(t.dataDir, { recursive: true, force: true });
      }
    }
    // Policy rows compare with the 3-policy gateway of the same round.
    const policyRuns = runs.filter((r) => r.row.endsWith('policies')).map((r) => ({ ...r, path: r.row, row: 'echo' }));
    const sizeTable: Table = {
      title: `Result size: payload tool (realistic JSON), median of ${rounds} interleaved rounds (${seconds} s each)`,
      columns: ['result', 'conc', 'path', 'calls/s', 'p50 ms', 'errors', '× direct'],
      rows: summarise(
        runs.filter((r) => !r.row.endsWith('policies')),
        SIZES.map(([l]) => l),
        ['direct', 'mcp-proxy', 'gatehouse'],
        'direct',
        rounds,
      ),
      notes: [
        'Gatehouse: the full pipeline (auth, Cedar with 1,000 policies, validation, rate limits, approvals stage, durable audit intent, broker, sanitizer with 1,000 held values and every detector).',
        'Each result is one of eight variants per size taken in turn (new phone numbers, emails, ids); some hold held values and secrets, which the gateway redacts.',
      ],
    };
    const policyTable: Table = {
      title: `Policy count: full pipeline on the echo tool, median of ${rounds} interleaved rounds`,
      columns: ['tool', 'conc', 'policies', 'calls/s', 'p50 ms', 'errors', '× 3 policies'],
      rows: summarise(
        policyRuns,
        ['echo'],
        POLICY_COUNTS.map((c) => `${c} policies`),
        '3 policies',
        rounds,
      ),
      notes: ['Policies shaped like a deployment (bench/policy.ts): broad rules, team/server/tool rules, a third with conditions, some forbids.'],
    };
    return { tables: [sizeTable, policyTable], verdicts: [], data: runs };
  },
};
