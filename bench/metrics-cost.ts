// What production metrics and traces cost on the gateway path: the same echo call through three
// gateways started side by side — metrics and tracing off (the default), `metrics:` on, and
// `metrics:` plus `tracing:` exporting every call to an OTLP/HTTP sink in this process — at
// concurrency 1 and 16, in interleaved rounds, each ratio taken against the "off" gateway of
// the same round. The metrics listener is scraped once a second during the runs, as Prometheus
// would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlwaysOffSampler, ParentBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { GatewayMetrics, pipelineMetrics } from '../dist/metrics/index.js';
import { composePipeline, STAGE_ORDER, type CallContext, type PipelineObserver, type Stage } from '../dist/pipeline/index.js';
import { callTracing } from '../dist/tracing/call-tracing.js';
import { freePort } from './lib/processes.ts';
import { startGatehouse, type BenchTarget } from './lib/servers.ts';
import { fmtInt, fmtMs, fmtRatio, median } from './lib/table.ts';
import type { BenchContext, BenchModule, BenchReport, Verdict } from './lib/types.ts';
import { runLoadWorker } from './lib/worker.ts';

const CONCURRENCY = [1, 16] as const;
const LABELS = ['off', 'metrics', 'metrics + tracing'] as const;
type Label = (typeof LABELS)[number];

interface Run {
  label: Label;
  concurrency: number;
  round: number;
  callsPerSec: number;
  p50Ms: number;
  errors: number;
}

/** An OTLP/HTTP endpoint that accepts and drops spans (what a collector costs the gateway is the export, not the storage). */
async function otlpSink(): Promise<{ url: string; exportedBytes: () => number; close(): Promise<void> }> {
  let bytes = 0;
  const server: Server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    exportedBytes: () => bytes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Scrapes `url` once a second, as Prometheus would; returns the stop function. */
function scrapeEverySecond(url: string): () => void {
  const timer = setInterval(
    () =>
      void fetch(url).then(
        (r) => r.text(),
        () => undefined,
      ),
    1000,
  );
  return () => clearInterval(timer);
}

/**
 * The observers alone, in this process: the ten stages as no-ops, composed without observers,
 * with the metrics observer, with the tracing observer (spans created and ended, not exported)
 * and with both; µs per call, medians of interleaved rounds. What the gateway adds per call for
 * metrics or traces is the difference to the plain row.
 */
async function observerCost(rounds: number): Promise<{ label: string; usPerCall: number }[]> {
  const stages: Stage[] = STAGE_ORDER.map((name, i) => ({
    name,
    run: i === STAGE_ORDER.length - 1 ? async () => ({ content: [] }) : (_ctx: CallContext, next: () => Promise<never>) => next(),
  })) as Stage[];
  const metrics = new GatewayMetrics({ sessions: () => 0, pendingApprovals: async () => 0 }, { maxToolLabels: 1000 });
  const tracer = new TracerProvider().getTracer('bench');
  const unsampled = new TracerProvider({ sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) }).getTracer('bench');
  const variants: [string, PipelineObserver[]][] = [
    ['no observer', []],
    ['metrics', [pipelineMetrics(metrics)]],
    ['tracing (spans not exported)', [callTracing(tracer)]],
    ['tracing, call not sampled', [callTracing(unsampled)]],
    ['metrics + tracing', [callTracing(tracer), pipelineMetrics(metrics)]],
  ];
  const pipelines = variants.map(([label, observers]) => [label, composePipeline(stages, observers)] as const);
  const ctx = {
    requestId: 'bench',
    op: { method: 'tools/call', action: 'call', kind: 'tool', server: 'echo', name: 'echo', id: 'echo__echo', args: {} },
    params: { name: 'echo', arguments: {} },
    notes: {},
    control: {},
    signal: new AbortController().signal,
    decision: { effect: 'allow' },
  } as unknown as CallContext;
  const calls = 20_000;
  const time = async (run: (ctx: CallContext) => Promise<unknown>) => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) await run({ ...ctx, params: { ...ctx.params } });
    return ((performance.now() - start) * 1000) / calls;
  };
  for (const [, run] of pipelines) await time(run);
  const samples = new Map<string, number[]>(pipelines.map(([label]) => [label, []]));
  for (let round = 0; round < Math.max(rounds, 5); round++) for (const [label, run] of pipelines) samples.get(label)?.push(await time(run));
  return pipelines.map(([label]) => ({ label, usPerCall: median(samples.get(label) ?? []) }));
}

export const metricsCost: BenchModule = {
  name: 'metrics-cost',
  title: 'Cost of metrics and traces on the gateway path (echo tool)',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const sink = await otlpSink();
    const metricsPorts = [await freePort(), await freePort()];
    ctx.progress('metrics-cost: starting three gateways (off / metrics / metrics + tracing)');
    const targets: [Label, BenchTarget][] = [
      ['off', await startGatehouse(ctx, 'gatehouse-observability-off')],
      ['metrics', await startGatehouse(ctx, 'gatehouse-metrics', ['metrics:', `  listen: { host: 127.0.0.1, port: ${metricsPorts[0]} }`])],
      [
        'metrics + tracing',
        await startGatehouse(ctx, 'gatehouse-metrics-tracing', [
          'metrics:',
          `  listen: { host: 127.0.0.1, port: ${metricsPorts[1]} }`,
          'tracing:',
          '  exporter: otlp-http',
          `  endpoint: ${sink.url}`,
        ]),
      ],
    ];
    const stops = metricsPorts.map((port) => scrapeEverySecond(`http://127.0.0.1:${port}/metrics`));
    const runs: Run[] = [];
    const { rounds, seconds, warmupSeconds } = ctx.options;
    try {
      for (const [label, target] of targets) {
        ctx.progress(`metrics-cost: warm-up ${label}`);
        await runLoadWorker({
          target: { name: label, url: target.url, headers: await target.headers() },
          concurrency: 16,
          durationMs: 500,
          warmupMs: 1500,
          tool: 'echo',
          args: { text: 'warm' },
        });
      }
      for (const concurrency of CONCURRENCY) {
        for (let round = 0; round < rounds; round++) {
          // Rotate the order each round so drift on a busy machine hits every configuration alike.
          const order = [...targets.slice(round % targets.length), ...targets.slice(0, round % targets.length)];
          for (const [label, target] of order) {
            ctx.progress(`metrics-cost: ${label}, c=${concurrency}, round ${round + 1}/${rounds}`);
            const r = await runLoadWorker({
              target: { name: label, url: target.url, headers: await target.headers() },
              concurrency,
              durationMs: seconds * 1000,
              warmupMs: warmupSeconds * 1000,
              tool: 'echo',
              args: { text: 'hello from the benchmark' },
            });
            runs.push({ label, concurrency, round, callsPerSec: r.callsPerSec, p50Ms: r.p50Ms, errors: r.errors });
          }
        }
      }
    } finally {
      for (const stop of stops) stop();
      await sink.close();
    }
    ctx.progress('metrics-cost: the observers alone, in process (ten no-op stages)');
    const inProcess = await observerCost(rounds);
    const base = inProcess[0]?.usPerCall ?? NaN;
    const rows: (string | number)[][] = [];
    const verdicts: Verdict[] = [];
    for (const concurrency of CONCURRENCY) {
      const pick = (label: Label, round: number) => runs.find((r) => r.label === label && r.concurrency === concurrency && r.round === round);
      for (const label of LABELS) {
        const mine = runs.filter((r) => r.label === label && r.concurrency === concurrency);
        const ratio = (metric: 'callsPerSec' | 'p50Ms') =>
          median([...Array(rounds).keys()].map((round) => (pick(label, round)?.[metric] ?? NaN) / (pick('off', round)?.[metric] ?? NaN)));
        rows.push([
          label,
          concurrency,
          fmtInt(median(mine.map((r) => r.callsPerSec))),
          fmtMs(median(mine.map((r) => r.p50Ms))),
          mine.reduce((n, r) => n + r.errors, 0),
          label === 'off' ? '1.00×' : fmtRatio(ratio('callsPerSec')),
          label === 'off' ? '1.00×' : fmtRatio(ratio('p50Ms')),
        ]);
        if (label === 'metrics') {
          const r = ratio('callsPerSec');
          verdicts.push({
            target: `c=${concurrency}: throughput with metrics on ≥ 95 % of metrics off`,
            pass: r >= 0.95,
            detail: `${(r * 100).toFixed(1)} % (median of ${rounds} interleaved round ratios)`,
          });
        }
      }
    }
    return {
      tables: [
        {
          title: this.title,
          columns: ['configuration', 'concurrency', 'calls/s', 'p50 ms', 'errors', '× off (calls/s)', '× off (p50)'],
          rows,
          notes: [
            'Same build, same stdio echo upstream, auth, access list, rate-limit stage and durable audit on in all three; only `metrics:` / `tracing:` differ.',
            'metrics: every stage timed, every call counted, /metrics scraped once a second. tracing: a call span, ten stage spans, batched OTLP/HTTP JSON export to a local sink.',
            `Ratios are medians of per-round pairs measured back to back on one machine; ${fmtInt(sink.exportedBytes())} bytes of spans exported.`,
          ],
        },
        {
          title: 'The observers alone: ten no-op stages in process, µs per call',
          columns: ['observers', 'µs/call', 'added µs/call'],
          rows: inProcess.map((r) => [r.label, r.usPerCall.toFixed(2), r.label === 'no observer' ? '' : (r.usPerCall - base).toFixed(2)]),
          notes: ['Medians of interleaved rounds of 20,000 calls each; a call of the real gateway takes about 1 ms at c=1 on a quiet 2-core machine.'],
        },
      ],
      verdicts,
      data: { runs, inProcess },
    };
  },
};
