// Memory under sustained load (`--long`): the full-pipeline gateway driven at concurrency 16
// for 60 s in six 10-second windows; RSS sampled every second. Targets: RSS ≤ 200 MB under the
// load, and no growth between the second and the sixth window (a leak check: the first window
// is warm-up, JIT and caches filling). Without --long the module is skipped (it takes ~70 s).
import { rmSync } from 'node:fs';
import { memoryOf } from './lib/processes.ts';
import { startGatehouse } from './lib/servers.ts';
import { fmtInt, fmtMb, median } from './lib/table.ts';
import type { BenchContext, BenchModule, BenchReport, Verdict } from './lib/types.ts';
import { runLoadWorker } from './lib/worker.ts';

const WINDOWS = 6;
const WINDOW_MS = 10_000;
const TARGET_RSS = 200 * 1024 * 1024;
/** Growth from window 2 to window 6 above this is a leak (a few MB of noise from heap sizing). */
const LEAK_TOLERANCE = 0.05;

export const memoryLoad: BenchModule = {
  name: 'memory-load',
  title: 'RSS under 60 s of concurrency-16 load (leak check)',
  async run(ctx: BenchContext): Promise<BenchReport> {
    if (!ctx.options.long) return { tables: [], verdicts: [], data: {}, skipped: 'runs with --long (BENCH_LONG=1) only: 60 s of load' };
    const gatehouse = await startGatehouse(ctx, 'gatehouse-memory-load', [], { pipeline: 'full' });
    const windows: { rssMedian: number; rssMax: number; calls: number; errors: number }[] = [];
    let hwm = 0;
    try {
      const headers = await gatehouse.headers();
      for (let w = 0; w < WINDOWS; w++) {
        const samples: number[] = [];
        const timer = setInterval(() => samples.push(memoryOf(gatehouse.process.pid).rssBytes), 1000);
        const r = await runLoadWorker({
          target: { name: 'gatehouse', url: gatehouse.url, headers },
          concurrency: 16,
          durationMs: WINDOW_MS,
          warmupMs: 0,
          tool: 'echo',
          args: { text: 'hello from the benchmark' },
        });
        clearInterval(timer);
        samples.push(memoryOf(gatehouse.process.pid).rssBytes);
        windows.push({ rssMedian: median(samples), rssMax: Math.max(...samples), calls: r.calls, errors: r.errors });
        ctx.progress(`memory-load: window ${w + 1}/${WINDOWS}: RSS median ${fmtMb(median(samples))}, ${fmtInt(r.calls)} calls`);
      }
      hwm = memoryOf(gatehouse.process.pid).hwmBytes;
    } finally {
      await gatehouse.process.stop();
      if (!ctx.options.keep) rmSync(gatehouse.dataDir, { recursive: true, force: true });
    }
    const second = windows[1]?.rssMedian ?? NaN;
    const sixth = windows[WINDOWS - 1]?.rssMedian ?? NaN;
    const growth = (sixth - second) / second;
    const verdicts: Verdict[] = [
      { target: 'RSS ≤ 200 MB under 60 s of c=16 load', pass: hwm <= TARGET_RSS, detail: `peak ${fmtMb(hwm)} (VmHWM of the gateway process)` },
      {
        target: 'no RSS growth from the 2nd to the 6th 10-s window',
        pass: growth <= LEAK_TOLERANCE,
        detail: `${fmtMb(second)} → ${fmtMb(sixth)} (${(growth * 100).toFixed(1)} %; tolerance ${LEAK_TOLERANCE * 100} %)`,
      },
    ];
    return {
      tables: [
        {
          title: this.title,
          columns: ['window', 'RSS median', 'RSS max', 'calls', 'errors'],
          rows: windows.map((w, i) => [
            `${(i * WINDOW_MS) / 1000}–${((i + 1) * WINDOW_MS) / 1000} s`,
            fmtMb(w.rssMedian),
            fmtMb(w.rssMax),
            fmtInt(w.calls),
            w.errors,
          ]),
          notes: ['Full pipeline, echo tool, one session, concurrency 16 without pause between windows (each window is one load-worker run).'],
        },
      ],
      verdicts,
      data: { windows, hwm },
    };
  },
};
