// The full gateway path with the output sanitizer's detectors on (the default) against the
// same gateway with only held credentials checked: the same echo tool returning a realistic
// ~4 KB JSON text (records with names, emails, phone numbers, ids, a few secrets), at
// concurrency 1 and 16, interleaved rounds. The exit point itself cannot be turned off (it is
// what keeps held credentials from the agent), so the baseline is the gateway with the
// secret-format and personal-data detectors off. Target: within 10 % of the baseline's throughput.
import { startGatehouse, type BenchTarget } from './lib/servers.ts';
import { fmtInt, fmtMs, fmtRatio, median } from './lib/table.ts';
import type { BenchContext, BenchModule, BenchReport, Verdict } from './lib/types.ts';
import { runLoadWorker } from './lib/worker.ts';
import { document, heldValues } from './sanitize-engine.ts';

const CONCURRENCY = [1, 16] as const;

interface Run {
  label: string;
  concurrency: number;
  round: number;
  callsPerSec: number;
  p50Ms: number;
  errors: number;
}

export const sanitizePath: BenchModule = {
  name: 'sanitize-path',
  title: 'Gateway path with every sanitizer detector vs held credentials only (~4 KB JSON result)',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const text = document(4 * 1024, heldValues());
    ctx.progress('sanitize-path: starting two gateways (all detectors / held only)');
    const on = await startGatehouse(ctx, 'gatehouse-sanitize-on');
    const off = await startGatehouse(ctx, 'gatehouse-sanitize-held-only', ['sanitize:', '  detectors: { secrets: false, pii: false }']);
    const targets: [string, BenchTarget][] = [
      ['all detectors', on],
      ['held only', off],
    ];
    const runs: Run[] = [];
    const { rounds, seconds, warmupSeconds } = ctx.options;
    for (const concurrency of CONCURRENCY) {
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const [label, target] of order) {
          ctx.progress(`sanitize-path: ${label}, c=${concurrency}, round ${round + 1}/${rounds}`);
          const r = await runLoadWorker({
            target: { name: label, url: target.url, headers: await target.headers() },
            concurrency,
            durationMs: seconds * 1000,
            warmupMs: warmupSeconds * 1000,
            tool: 'echo',
            args: { text },
          });
          runs.push({ label, concurrency, round, callsPerSec: r.callsPerSec, p50Ms: r.p50Ms, errors: r.errors });
        }
      }
    }
    const rows: (string | number)[][] = [];
    const verdicts: Verdict[] = [];
    for (const concurrency of CONCURRENCY) {
      const ratios: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const a = runs.find((r) => r.label === 'all detectors' && r.concurrency === concurrency && r.round === round);
        const b = runs.find((r) => r.label === 'held only' && r.concurrency === concurrency && r.round === round);
        if (a && b) ratios.push(a.callsPerSec / b.callsPerSec);
      }
      const ratio = median(ratios);
      for (const [label] of targets) {
        const mine = runs.filter((r) => r.label === label && r.concurrency === concurrency);
        rows.push([
          label,
          concurrency,
          fmtInt(median(mine.map((r) => r.callsPerSec))),
          fmtMs(median(mine.map((r) => r.p50Ms))),
          mine.reduce((n, r) => n + r.errors, 0),
          label === 'all detectors' ? fmtRatio(ratio) : '',
        ]);
      }
      verdicts.push({
        target: `c=${concurrency}: throughput with every detector ≥ 90 % of held-only`,
        pass: ratio >= 0.9,
        detail: `${(ratio * 100).toFixed(1)} % (median of ${ratios.length} interleaved round pairs)`,
      });
    }
    return {
      tables: [
        {
          title: this.title,
          columns: ['configuration', 'concurrency', 'calls/s', 'p50 ms', 'errors', 'vs held only'],
          rows,
          notes: [
            'Same gateway build, same upstream (stdio echo), auth, policy, rate-limit and durable audit on; only `sanitize.detectors` differs.',
            `Result: the echo of a ${text.length}-byte JSON text; the sanitizer scans the result in the stage and the response again on the wire for the caller's token.`,
          ],
        },
      ],
      verdicts,
      data: runs,
    };
  },
};
