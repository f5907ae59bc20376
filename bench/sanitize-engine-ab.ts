// The detection engine (held values, secret rules, every PII kind) of two builds side by side
// in one process: `dist/` and another build's `dist/` (default `.bench/base/dist`), scans
// alternating so load drift on a shared machine hits both alike; also each build with phone
// numbers off. Per size: each build's CPU p50 and the median of per-pair CPU ratios.
//
//   node bench/sanitize-engine-ab.ts [other-dist-dir]     (needs `make build` and the other build)
//
// Make the other build: git archive main src tsconfig.base.json tsconfig.build.json package.json \
//   | tar -x -C .bench/base && (cd .bench/base && ../../node_modules/.bin/tsc -p tsconfig.build.json)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { document, heldValues } from './sanitize-engine.ts';

interface Build {
  Engine: new (options: unknown) => { scan(strings: readonly string[]): unknown };
  HeldValues: new () => { replaceAll(values: Iterable<string>): void };
  resetPhoneValidationCache(): void;
}

async function load(dist: string): Promise<Build> {
  const detect = (await import(pathToFileURL(resolve(dist, 'sanitize/detect/index.js')).href)) as Build;
  const numbers = (await import(pathToFileURL(resolve(dist, 'sanitize/detect/pii-numbers.js')).href)) as Build;
  return { Engine: detect.Engine, HeldValues: detect.HeldValues, resetPhoneValidationCache: numbers.resetPhoneValidationCache };
}

const other = process.argv[2] ?? '.bench/base/dist';
const builds = [await load('dist'), await load(other)];
const values = heldValues();
const engines = builds.map((b) => {
  const held = new b.HeldValues();
  held.replaceAll(values);
  return { all: new b.Engine({ held }), noPhone: new b.Engine({ held, pii: ['email', 'ip', 'card', 'iban', 'ssn'] }), reset: b.resetPhoneValidationCache };
});
const median = (x: number[]): number => [...x].sort((a, b) => a - b)[x.length >> 1]!;

function leaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) leaves(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) leaves(v, out);
  return out;
}

/** CPU ms of one scan, the phone-validation cache emptied first (a new tool result). */
function once(e: (typeof engines)[number], phone: boolean, strings: readonly string[]): number {
  e.reset();
  const c0 = process.cpuUsage();
  (phone ? e.all : e.noPhone).scan(strings);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const rows: Record<string, string | number>[] = [];
for (const [label, bytes, pairs] of [
  ['4 KB', 4 * 1024, 3000],
  ['64 KB', 64 * 1024, 300],
  ['1 MB', 1024 * 1024, 30],
] as const) {
  const json = document(bytes, values);
  const strings = leaves(JSON.parse(json));
  for (const e of engines) for (let i = 0; i < 5; i++) once(e, true, strings);
  const cpu: number[][] = [[], [], [], []];
  const ratio: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    const r: number[] = [];
    for (const k of order) r[k] = once(engines[k]!, true, strings);
    cpu[0]!.push(r[0]!);
    cpu[1]!.push(r[1]!);
    if (r[0]! > 0 && r[1]! > 0) ratio.push(r[1]! / r[0]!);
    cpu[2]!.push(once(engines[0]!, false, strings));
    cpu[3]!.push(once(engines[1]!, false, strings));
  }
  const mbps = (ms: number): number => Number((json.length / 1e6 / (ms / 1000)).toFixed(1));
  const [mine, theirs, mineNoPhone, theirsNoPhone] = cpu.map(median) as [number, number, number, number];
  rows.push({
    document: label,
    'this CPU p50 ms': Number(mine.toFixed(3)),
    'other CPU p50 ms': Number(theirs.toFixed(3)),
    'this MB/s': mbps(mine),
    'other MB/s': mbps(theirs),
    'speed-up (CPU, per pair)': ratio.length > 0 ? Number(median(ratio).toFixed(2)) : '',
    'this no-phone MB/s': mbps(mineNoPhone),
    'other no-phone MB/s': mbps(theirsNoPhone),
    'this all / no-phone': Number((mineNoPhone / mine).toFixed(2)),
    'other all / no-phone': Number((theirsNoPhone / theirs).toFixed(2)),
  });
}
console.log(`Detection engine, this build (dist) against ${other}: scans alternate; CPU time; ratios are medians of per-pair ratios (other / this).`);
console.table(rows);
