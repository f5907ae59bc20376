// `audit.sync` measured: the full-pipeline gateway with `fsync` (the default: every audit
// commit is fdatasynced before the call goes on) against `os` (written to the operating
// system only), same echo tool, concurrency 1 and 16, interleaved rounds. What each setting
// may cost on a power loss is in docs/configuration.md; a process kill loses nothing in either.
import { rmSync } from 'node:fs';
import { startGatehouse, type BenchTarget } from './lib/servers.ts';
import { fmtInt, fmtMs, fmtRatio, median } from './lib/table.ts';
import type { BenchContext, BenchModule, BenchReport } from './lib/types.ts';
import { runLoadWorker } from './lib/worker.ts';

const CONCURRENCY = [1, 16] as const;
const SETTINGS = ['fsync', 'os'] as const;

interface Run {
  setting: (typeof SETTINGS)[number];
  concurrency: number;
  round: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export const auditSync: BenchModule = {
  name: 'audit-sync',
  title: 'audit.sync: fsync (default) vs os, full pipeline, echo tool',
  async run(ctx: BenchContext): Promise<BenchReport> {
    ctx.progress('audit-sync: starting two full-pipeline gateways (audit.sync fsync / os)');
    const targets: [(typeof SETTINGS)[number], BenchTarget & { dataDir: string }][] = [];
    const runs: Run[] = [];
    try {
      for (const setting of SETTINGS)
        targets.push([setting, await startGatehouse(ctx, `gatehouse-audit-${setting}`, ['audit:', `  sync: ${setting}`], { pipeline: 'full' })]);
      for (const [, target] of targets) {
        await runLoadWorker({
          target: { name: target.name, url: target.url, headers: await target.headers() },
          concurrency: 16,
          durationMs: 500,
          warmupMs: 1500,
          tool: 'echo',
          args: { text: 'warm-up' },
        });
      }
      const { rounds, seconds, warmupSeconds } = ctx.options;
      for (const concurrency of CONCURRENCY) {
        for (let round = 0; round < rounds; round++) {
          for (const [setting, target] of round % 2 === 0 ? targets : [...targets].reverse()) {
            const r = await runLoadWorker({
              target: { name: target.name, url: target.url, headers: await target.headers() },
              concurrency,
              durationMs: seconds * 1000,
              warmupMs: warmupSeconds * 1000,
              tool: 'echo',
              args: { text: 'hello from the benchmark' },
            });
            runs.push({ setting, concurrency, round, callsPerSec: r.callsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors });
            ctx.progress(`audit-sync: ${setting} c=${concurrency} round ${round + 1}/${rounds}: ${fmtInt(r.callsPerSec)} calls/s, p50 ${fmtMs(r.p50Ms)} ms`);
          }
        }
      }
    } finally {
      for (const [, target] of targets) {
        await target.process.stop();
        if (!ctx.options.keep) rmSync(target.dataDir, { recursive: true, force: true });
      }
    }
    const rows: (string | number)[][] = [];
    for (const concurrency of CONCURRENCY) {
      const pairs: number[] = [];
      for (let round = 0; round < ctx.options.rounds; round++) {
        const a = runs.find((r) => r.setting === 'os' && r.concurrency === concurrency && r.round === round);
        const b = runs.find((r) => r.setting === 'fsync' && r.concurrency === concurrency && r.round === round);
        if (a && b) pairs.push(a.callsPerSec / b.callsPerSec);
      }
      for (const setting of SETTINGS) {
        const mine = runs.filter((r) => r.setting === setting && r.concurrency === concurrency);
        rows.push([
          setting,
          concurrency,
          fmtInt(median(mine.map((r) => r.callsPerSec))),
          fmtMs(median(mine.map((r) => r.p50Ms))),
          fmtMs(median(mine.map((r) => r.p99Ms))),
          mine.reduce((n, r) => n + r.errors, 0),
          setting === 'os' ? fmtRatio(median(pairs)) : '1.00×',
        ]);
      }
    }
    return {
      tables: [
        {
          title: this.title,
          columns: ['audit.sync', 'conc', 'calls/s', 'p50 ms', 'p99 ms', 'errors', '× fsync'],
          rows,
          notes: [
            'Both: the intent record is committed (written to the WAL) before the upstream call; a killed gateway loses no record.',
            'fsync: the WAL is fdatasynced before the call goes on (a power loss loses nothing acknowledged). os: no fdatasync (a power loss can lose the commits the OS had not written back).',
            'Ratios: medians of per-round pairs (the two gateways ran back to back in each round).',
          ],
        },
      ],
      verdicts: [],
      data: runs,
    };
  },
};
