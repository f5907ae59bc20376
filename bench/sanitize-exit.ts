// The whole exit point, as the `sanitize` stage runs it on a tool result: the walk over every
// string of the parsed result (keys included), the detection engine with 1,000 held values
// and every detector on, the split-string passes, the actions and the rebuild of what changed.
//
//   node bench/sanitize-exit.ts          (standalone; needs `make build`)
//
// Targets: ≥ 200 MB/s on realistic JSON, ≤ 0.2 ms added p50 for a 4 KB result.
// Benchmarks only report: a missed target is printed, never asserted.
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { HeldValues } from '../dist/sanitize/detect/index.js';
import { OutputSanitizer } from '../dist/sanitize/index.js';
import { document, heldValues, percentile, time } from './sanitize-engine.ts';

const TITLE = 'Output sanitizer exit point: walk + detect + act + rebuild on tool results (1,000 held values, every detector)';
const TARGET_MBPS = 200;
const TARGET_P50_MS = 0.2;

export async function runSanitizeExitBench(
  options: { seconds?: number } = {},
): Promise<{ title: string; rows: Record<string, string | number>[]; notes: string[] }> {
  const seconds = options.seconds ?? 2;
  const values = heldValues();
  const held = new HeldValues();
  held.replaceAll(values);
  const sanitizer = new OutputSanitizer(held);
  const channel = { kind: 'result', method: 'tools/call' } as const;
  const rows: Record<string, string | number>[] = [];
  for (const [label, bytes] of [
    ['4 KB', 4 * 1024],
    ['64 KB', 64 * 1024],
    ['1 MB', 1024 * 1024],
  ] as const) {
    const json = document(bytes, values);
    // A tool result as the stage receives it: text content and the same data structured.
    const result = { content: [{ type: 'text', text: json }], structuredContent: JSON.parse(json) as unknown };
    const bytesScanned = json.length * 2;
    let report: { redactions: Record<string, number> } | undefined;
    sanitizer.sanitize(result, channel, { report: (r) => (report = r) });
    const s = time(() => sanitizer.sanitize(result, channel, { report: () => {} }), seconds);
    // With the caller's own token too (the transport's scope): one more held-only pass.
    const withToken = time(
      () => sanitizer.sanitize(result, channel, { credentials: ['eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ'], report: () => {} }),
      seconds / 2,
    );
    // Each copy alone: how the cost splits between the two copies and what is per message.
    const textOnly = { content: result.content };
    const structuredOnly = { content: [], structuredContent: result.structuredContent };
    const tiny = { content: [{ type: 'text', text: 'ok' }] };
    const textAlone = time(() => sanitizer.sanitize(textOnly, channel, { report: () => {} }), seconds / 4);
    const structuredAlone = time(() => sanitizer.sanitize(structuredOnly, channel, { report: () => {} }), seconds / 4);
    const fixed = label === '4 KB' ? time(() => sanitizer.sanitize(tiny, channel, { report: () => {} }), seconds / 4) : undefined;
    const p50 = percentile(s.wall, 50);
    const mbps = (ms: number) => Number((bytesScanned / 1e6 / (ms / 1000)).toFixed(1));
    rows.push({
      result: label,
      'JSON bytes (×2: text + structured)': bytesScanned,
      findings: Object.values(report?.redactions ?? {}).reduce((a, b) => a + b, 0),
      'p50 ms': Number(p50.toFixed(3)),
      'p99 ms': Number(percentile(s.wall, 99).toFixed(3)),
      'CPU p50 ms': Number(percentile(s.cpu, 50).toFixed(3)),
      'MB/s': mbps(p50),
      'MB/s CPU': mbps(percentile(s.cpu, 50)),
      'p50 ms + caller token': Number(percentile(withToken.wall, 50).toFixed(3)),
      'p50 ms, text item alone': Number(percentile(textAlone.wall, 50).toFixed(3)),
      'p50 ms, structured alone': Number(percentile(structuredAlone.wall, 50).toFixed(3)),
      'p50 ms, 2-character result': fixed === undefined ? '' : Number(percentile(fixed.wall, 50).toFixed(4)),
      target: label === '4 KB' ? `p50 ≤ ${TARGET_P50_MS} ms` : label === '1 MB' ? `≥ ${TARGET_MBPS} MB/s` : '',
      verdict: label === '4 KB' ? (p50 <= TARGET_P50_MS ? 'PASS' : 'MISS') : label === '1 MB' ? (mbps(p50) >= TARGET_MBPS ? 'PASS' : 'MISS') : '',
    });
  }
  const notes = [
    'A "4 KB result" is ~4 KB of JSON relayed twice (a text item and structuredContent), as tools with an output schema return it; MB/s counts both copies.',
    'Alone: the same result with only its text item, or only its structuredContent; a 2-character result shows the work per message that does not grow with the text.',
    'Every string is scanned, keys included; found values are masked and their containers rebuilt. Phone-validation cache emptied before every sample.',
    `Load average at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (numbers on a busy machine are indicative).`,
  ];
  return { title: TITLE, rows, notes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runSanitizeExitBench();
  console.log(result.title);
  console.table(result.rows);
  for (const note of result.notes) console.log(note);
}
