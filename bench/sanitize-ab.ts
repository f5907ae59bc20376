// The exit point of two builds side by side in one process: `dist/` and another build's
// `dist/` (default `.bench/base/dist`, e.g. `main` built there), calls alternating so load
// drift on a shared machine hits both alike. Per size: median of per-pair ratios of CPU time
// and wall time (other/this), and each build's p50.
//
//   node bench/sanitize-ab.ts [other-dist-dir]     (needs `make build` and the other build)
//
// Make the other build: git archive main src tsconfig.base.json tsconfig.build.json package.json \
//   | tar -x -C .bench/base && (cd .bench/base && ../../node_modules/.bin/tsc -p tsconfig.build.json)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { document, heldValues } from './sanitize-engine.ts';

interface Build {
  HeldValues: new () => { replaceAll(values: Iterable<string>): void };
  OutputSanitizer: new (held: unknown) => { sanitize(m: unknown, c: unknown, s: unknown): unknown };
}

async function load(dist: string): Promise<Build> {
  const detect = (await import(pathToFileURL(resolve(dist, 'sanitize/detect/index.js')).href)) as Build;
  const sanitize = (await import(pathToFileURL(resolve(dist, 'sanitize/index.js')).href)) as Build;
  return { HeldValues: detect.HeldValues, OutputSanitizer: sanitize.OutputSanitizer };
}

const other = process.argv[2] ?? '.bench/base/dist';
const builds = [await load('dist'), await load(other)];
const values = heldValues();
const sanitizers = builds.map((b) => {
  const held = new b.HeldValues();
  held.replaceAll(values);
  return new b.OutputSanitizer(held);
});
const channel = { kind: 'result', method: 'tools/call' };
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const median = (x: number[]): number => [...x].sort((a, b) => a - b)[x.length >> 1]!;

function once(s: (typeof sanitizers)[number], message: unknown, token: boolean): { cpu: number; wall: number } {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  s.sanitize(message, channel, { credentials: token ? [TOKEN] : undefined, report: () => {} });
  const wall = performance.now() - w0;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1000, wall };
}

const rows: Record<string, string | number>[] = [];
for (const [label, bytes, pairs] of [
  ['4 KB', 4 * 1024, 3000],
  ['64 KB', 64 * 1024, 200],
  ['1 MB', 1024 * 1024, 16],
] as const) {
  const json = document(bytes, values);
  const message = { content: [{ type: 'text', text: json }], structuredContent: JSON.parse(json) as unknown };
  for (const token of [false, true]) {
    for (const s of sanitizers) for (let i = 0; i < 3; i++) once(s, message, token);
    const mine: number[] = [];
    const theirs: number[] = [];
    const cpuRatio: number[] = [];
    const wallRatio: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 === 0 ? [0, 1] : [1, 0];
      const r: { cpu: number; wall: number }[] = [];
      for (const k of order) r[k] = once(sanitizers[k]!, message, token);
      mine.push(r[0]!.wall);
      theirs.push(r[1]!.wall);
      if (r[0]!.cpu > 0) cpuRatio.push(r[1]!.cpu / r[0]!.cpu);
      wallRatio.push(r[1]!.wall / r[0]!.wall);
    }
    const mbps = (ms: number): number => Number(((json.length * 2) / 1e6 / (ms / 1000)).toFixed(1));
    rows.push({
      result: label,
      'caller token': token ? 'yes' : 'no',
      'this p50 ms': Number(median(mine).toFixed(3)),
      'other p50 ms': Number(median(theirs).toFixed(3)),
      'this MB/s': mbps(median(mine)),
      'other MB/s': mbps(median(theirs)),
      'speed-up (wall, per pair)': Number(median(wallRatio).toFixed(2)),
      'speed-up (CPU, per pair)': cpuRatio.length > 0 ? Number(median(cpuRatio).toFixed(2)) : '',
    });
  }
}
console.log(`Exit point, this build (dist) against ${other}: calls alternate; ratios are medians of per-pair ratios (other / this).`);
console.table(rows);
