// V8's default heap sizing is tuned for a browser tab or a batch job on a machine with
// gigabytes to spare, not for a long-running gateway with a ~40 MB live heap:
//
// - the young generation grows its semi-spaces (up to 16 MB each, ~3 of them resident) as soon
//   as startup allocates quickly, which building a thousand-policy set and a thousand-value
//   automaton does, and it never gives the pages back: ~60 MB of RSS at idle, ~100 MB under load;
// - the old generation is next collected only when it has grown to up to 4× what survived the
//   last full collection, so under steady load RSS climbs for minutes with promoted garbage
//   before the first full collection, and stays at that high-water mark.
//
// Both are V8 flags that can be changed after the isolate exists (`--semi-space-growth-factor`
// and `--heap-growing-percent` are read at each collection; `--max-semi-space-size` is read
// only at isolate creation, so it cannot be set from here). What was measured and chosen:
// docs/decisions.md (D-entry "Heap sizing") and bench/README.md.
import v8 from 'node:v8';

/**
 * What the gateway sets unless the operator set it first:
 * - `--semi-space-growth-factor=1`: the young generation keeps the size it starts with
 *   (1 MB semi-spaces) instead of growing to 16 MB ones;
 * - `--heap-growing-percent=N`: the old generation is collected once it has grown N % past what
 *   survived the last full collection (V8 picks 10–300 % by its own speed estimates).
 */
export const HEAP_SIZING_FLAGS = {
  semiSpaceGrowthFactor: 1,
  heapGrowingPercent: 50,
} as const;

/** Flags that mean the operator sized the young generation themselves. */
const YOUNG_FLAGS = ['--max-semi-space-size', '--min-semi-space-size', '--semi-space-growth-factor', '--max-heap-size'];
/** Flags that mean the operator sized the old generation's growth themselves. */
const OLD_FLAGS = ['--heap-growing-percent'];

export interface HeapSizingResult {
  /** Flags this call set. */
  applied: string[];
  /** Flags left alone because the command line or NODE_OPTIONS sets that part of the heap. */
  leftToOperator: string[];
}

/** Whether any of `names` appears in the given Node arguments (`--name=v`, `--name v`, or with underscores). */
function mentions(args: readonly string[], names: readonly string[]): boolean {
  return args.some((arg) => {
    const name = arg.split('=')[0]?.replaceAll('_', '-') ?? '';
    return names.includes(name);
  });
}

/**
 * Sets the gateway's heap sizing (see `HEAP_SIZING_FLAGS`) for this process, except the parts
 * the operator already sized with Node flags on the command line or in NODE_OPTIONS: an
 * explicit `node --max-semi-space-size=16 …` keeps V8's young-generation growth, an explicit
 * `--heap-growing-percent` keeps its own value. Idempotent. Affects this process only (V8 flags
 * are per process; upstreams the gateway starts keep Node's defaults).
 */
export function applyHeapSizing(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
  setFlags: (flags: string) => void = v8.setFlagsFromString,
): HeapSizingResult {
  const given = [...execArgv, ...nodeOptions.split(/\s+/).filter((a) => a.length > 0)];
  const result: HeapSizingResult = { applied: [], leftToOperator: [] };
  const young = `--semi-space-growth-factor=${HEAP_SIZING_FLAGS.semiSpaceGrowthFactor}`;
  const old = `--heap-growing-percent=${HEAP_SIZING_FLAGS.heapGrowingPercent}`;
  for (const [flag, operatorFlags] of [
    [young, YOUNG_FLAGS],
    [old, OLD_FLAGS],
  ] as const) {
    if (mentions(given, operatorFlags)) {
      result.leftToOperator.push(flag);
      continue;
    }
    setFlags(flag);
    result.applied.push(flag);
  }
  return result;
}
