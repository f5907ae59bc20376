// Where a call's time goes inside the gateway: the full pipeline (see lib/full-pipeline.ts) run
// under `node --cpu-prof`, its samples attributed to the pipeline stages (src/pipeline/stages/*:
// a stage owns everything it calls) and, outside the stages, to the room or package of the
// innermost frame (the HTTP front door, the MCP transport and SDK, the upstream connection,
// GC). Only samples inside the load worker's measured window count. CPU per call, not wall
// time: waiting (the audit fdatasync, the upstream) is not on the CPU and shows as idle.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { attributeProfile, type Attribution } from './lib/profile-attribution.ts';
import { startGatehouse } from './lib/servers.ts';
import { fmtInt } from './lib/table.ts';
import type { BenchContext, BenchModule, BenchReport, Table } from './lib/types.ts';
import { runLoadWorker } from './lib/worker.ts';

interface Workload {
  label: string;
  tool: string;
  args: Record<string, unknown>;
  concurrency: number;
}

const WORKLOADS: readonly Workload[] = [
  { label: 'echo c=1', tool: 'echo', args: { text: 'hello from the benchmark' }, concurrency: 1 },
  { label: 'echo c=16', tool: 'echo', args: { text: 'hello from the benchmark' }, concurrency: 16 },
  { label: '64 KB c=4', tool: 'payload', args: { bytes: 64 * 1024 }, concurrency: 4 },
];

interface Measured {
  workload: Workload;
  calls: number;
  windowUs: [number, number];
}

export const stages: BenchModule = {
  name: 'stages',
  title: 'Per-stage CPU breakdown of the full pipeline (CPU profile)',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const profileDir = path.join(ctx.benchDir, 'stages-profile');
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
    ctx.progress('stages: a full-pipeline gateway under --cpu-prof');
    const gatehouse = await startGatehouse(ctx, 'gatehouse-stages', [], {
      pipeline: 'full',
      env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir} --cpu-prof-interval=250 ${process.env.BENCH_GATEWAY_NODE_OPTIONS ?? ''}`.trim() },
    });
    const measured: Measured[] = [];
    try {
      const headers = await gatehouse.headers();
      // Warm-up of every workload before anything is recorded.
      for (const w of WORKLOADS) {
        await runLoadWorker({
          target: { name: 'gatehouse', url: gatehouse.url, headers },
          concurrency: w.concurrency,
          durationMs: 500,
          warmupMs: 1000,
          tool: w.tool,
          args: w.args,
        });
      }
      for (const w of WORKLOADS) {
        ctx.progress(`stages: ${w.label}`);
        const r = await runLoadWorker({
          target: { name: 'gatehouse', url: gatehouse.url, headers },
          concurrency: w.concurrency,
          durationMs: Math.max(2, ctx.options.seconds) * 1000,
          warmupMs: ctx.options.warmupSeconds * 1000,
          tool: w.tool,
          args: w.args,
        });
        measured.push({ workload: w, calls: r.calls, windowUs: r.windowUs });
      }
    } finally {
      // The profile is written when the process exits.
      await gatehouse.process.stop();
      if (!ctx.options.keep) rmSync(gatehouse.dataDir, { recursive: true, force: true });
    }
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) return { tables: [], verdicts: [], data: {}, skipped: 'the gateway wrote no CPU profile' };
    const attributions = measured.map((m) => attributeProfile(path.join(profileDir, file), m.windowUs[0], m.windowUs[1]));
    return {
      tables: [breakdownTable(measured, attributions)],
      verdicts: [],
      data: measured.map((m, i) => ({ ...m, buckets: Object.fromEntries(attributions[i]?.buckets ?? []) })),
    };
  },
};

export function breakdownTable(measured: readonly Measured[], attributions: readonly Attribution[]): Table {
  const names = new Set<string>();
  for (const a of attributions) for (const k of a.buckets.keys()) names.add(k);
  const total = (name: string) => attributions.reduce((sum, a, i) => sum + (a.buckets.get(name) ?? 0) / Math.max(1, measured[i]?.calls ?? 1), 0);
  const ordered = [...names].sort((x, y) => {
    const sx = x.startsWith('stage: ') ? 0 : 1;
    const sy = y.startsWith('stage: ') ? 0 : 1;
    return sx - sy || total(y) - total(x);
  });
  const perCall = (a: Attribution, m: Measured, name: string) => (a.buckets.get(name) ?? 0) / Math.max(1, m.calls);
  const rows: (string | number)[][] = ordered.map((name) => [
    name,
    ...measured.flatMap((m, i) => {
      const a = attributions[i] as Attribution;
      const us = perCall(a, m, name);
      return [fmtInt(us), `${((100 * (a.buckets.get(name) ?? 0)) / Math.max(1, a.busyUs)).toFixed(1)}%`];
    }),
  ]);
  rows.push(['total CPU per call', ...measured.flatMap((m, i) => [fmtInt((attributions[i] as Attribution).busyUs / Math.max(1, m.calls)), '100%'])]);
  return {
    title:
      'Gateway CPU per call by stage (full pipeline: auth, Cedar 1,000 policies, validate, rate limits, approvals, durable audit intent, broker, sanitizer with 1,000 held values)',
    columns: ['where', ...measured.flatMap((m) => [`${m.workload.label} µs`, '%'])],
    rows,
    notes: [
      'From a V8 CPU profile of the gateway process (sampling every 250 µs) over the measured window only. A stage owns everything it calls (Cedar, the audit log, the sanitizer, the connector); outside the stages, time goes to the room or package of the innermost frame.',
      '"stage: audit-outcome" includes writing the outcome record; "stage: execute" the connector and the upstream hop up to the wire; the wait for fdatasync and for the upstream is idle time, not CPU.',
      'The exit point scans each response again on the wire for the caller\'s own token: that is under "gatehouse: mcp"/"gatehouse: sanitize" outside the stages.',
      `Calls in the windows: ${measured.map((m) => `${m.workload.label} ${fmtInt(m.calls)}`).join(', ')}.`,
    ],
  };
}
