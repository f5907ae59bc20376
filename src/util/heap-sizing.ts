// V8's default heap sizing is tuned for a browser tab or a batch job on a machine with
// gigabytes to spare, not for a long-running gateway with a ~40 MB live heap:
//
// - the young generation grows its semi-spaces (up to 64 MB in Node 24) as soon as startup
//   allocates quickly, which building a thousand-policy set and a thousand-value automaton does,
//   and it never gives the pages back: ~60 MB of RSS at idle, ~100 MB under load;
// - the old generation is next collected only when it has grown to up to 4× what survived the
//   last full collection, so under steady load RSS climbs for minutes with promoted garbage
//   before the first full collection, and stays at that high-water mark.
//
// A young generation kept at its 0.5 MB start, though, is scavenged so often that garbage
// collection became the largest cost per call; a few MB fixed is a few MB of RSS and a fraction
// of that CPU. The semi-space size is read only when the isolate is created, so the gateway
// restarts itself once (same process id, `execve`) with the flags on its command line. What was
// measured and chosen: docs/decisions.md (D-entry "Heap sizing") and bench/README.md.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';

/**
 * What the gateway sets unless the operator set it first:
 * - `--min-semi-space-size=N --max-semi-space-size=N`: a young generation of a fixed N MB per
 *   semi-space, instead of one growing to 64 MB ones;
 * - where the process cannot be restarted with flags, `--semi-space-growth-factor=1` instead:
 *   the young generation keeps the size it starts with (read at each collection, so it can be
 *   set in the running process);
 * - `--heap-growing-percent=N`: the old generation is collected once it has grown N % past what
 *   survived the last full collection (V8 picks 10–300 % by its own speed estimates);
 * - with a restart, `--v8-pool-size=N`: no more of V8's helper threads (garbage collection,
 *   optimizing compilation) than the machine has cores, between `minPlatformThreads` and
 *   Node's default of `maxPlatformThreads`. Each helper thread keeps its own malloc arena of
 *   what it once compiled or marked: on 2 cores, 4 helpers held ~25 MB more at idle than 2,
 *   with the same calls/s (bench/README.md).
 */
export const HEAP_SIZING_FLAGS = {
  semiSpaceMb: 4,
  semiSpaceGrowthFactor: 1,
  heapGrowingPercent: 50,
  minPlatformThreads: 2,
  maxPlatformThreads: 4,
} as const;

/** V8's helper threads for a machine with `cores` cores (see `HEAP_SIZING_FLAGS`). */
export function platformThreads(cores: number): number {
  return Math.min(HEAP_SIZING_FLAGS.maxPlatformThreads, Math.max(HEAP_SIZING_FLAGS.minPlatformThreads, Math.floor(cores)));
}

/**
 * Set in the environment of the restarted process, so a restart happens at most once. Its value
 * names the `MALLOC_SETTINGS` the restart added (comma-separated; `1` for none), which the
 * restarted process removes from its environment again (`forgetRestartEnvironment`).
 */
export const HEAP_SIZING_RESTARTED_ENV = 'GATEHOUSE_HEAP_SIZING_RESTARTED';

/**
 * The C library's allocator settings the restart adds unless the environment sets them: a fixed
 * mmap threshold of 128 KiB. glibc otherwise raises its threshold to the size of every large
 * block freed (up to 32 MiB), so once startup has freed one large table (building the held-value
 * automaton frees several of 1–2 MB), later ones come from the main heap and, freed, stay
 * there behind whatever was allocated after them: ~15 MB of RSS at idle (docs/decisions.md D51).
 * Read by glibc when the process starts; other C libraries ignore it.
 */
export const MALLOC_SETTINGS: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072' };

/** The environment of the restarted process: `env`, the marker, and the allocator settings it does not set. */
export function restartEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const added = Object.keys(MALLOC_SETTINGS).filter((name) => env[name] === undefined);
  const out: NodeJS.ProcessEnv = { ...env, [HEAP_SIZING_RESTARTED_ENV]: added.length > 0 ? added.join(',') : '1' };
  for (const name of added) out[name] = MALLOC_SETTINGS[name];
  return out;
}

/**
 * In the restarted process: removes the marker and the allocator settings the restart added
 * (they did their work when the process started), so no child inherits them. Settings the
 * operator's environment had are kept.
 */
export function forgetRestartEnvironment(env: NodeJS.ProcessEnv): void {
  const marker = env[HEAP_SIZING_RESTARTED_ENV];
  delete env[HEAP_SIZING_RESTARTED_ENV];
  if (marker === undefined) return;
  for (const name of marker.split(',')) if (Object.hasOwn(MALLOC_SETTINGS, name)) delete env[name];
}

/** Flags that mean the operator sized the young generation themselves. */
const YOUNG_FLAGS = ['--max-semi-space-size', '--min-semi-space-size', '--semi-space-growth-factor', '--max-heap-size'];
/** Flags that mean the operator sized the old generation's growth themselves. */
const OLD_FLAGS = ['--heap-growing-percent'];
/** The flag that means the operator chose V8's helper threads themselves. */
const POOL_FLAGS = ['--v8-pool-size'];

export interface HeapSizingResult {
  /** Flags this call set in the running process. */
  applied: string[];
  /** Flags left alone because the command line or NODE_OPTIONS sets that part of the heap. */
  leftToOperator: string[];
  /**
   * Node flags the process is to be restarted with (`restartWithHeapSizing`), because V8 reads
   * them only when the isolate is created; empty when no restart is needed.
   */
  restartWith: string[];
}

/** Whether any of `names` appears in the given Node arguments (`--name=v`, `--name v`, or with underscores). */
function mentions(args: readonly string[], names: readonly string[]): boolean {
  return args.some((arg) => {
    const name = arg.split('=')[0]?.replaceAll('_', '-') ?? '';
    return names.includes(name);
  });
}

/**
 * Decides the gateway's heap sizing (see `HEAP_SIZING_FLAGS`) for this process, except the
 * parts the operator already sized with Node flags on the command line or in NODE_OPTIONS: an
 * explicit `node --max-semi-space-size=16 …` keeps that young generation, an explicit
 * `--heap-growing-percent` keeps its own value.
 *
 * With `canRestart`, everything the operator left is returned in `restartWith` and nothing is
 * set here (the restarted process has the flags on its command line, so it finds them all
 * given and sets nothing). Without it, the flags that can be changed in a running process are
 * set with `setFlags`. Affects this process only (V8 flags are per process; upstreams the
 * gateway starts keep Node's defaults).
 */
export function applyHeapSizing(
  execArgv: readonly string[],
  nodeOptions: string,
  setFlags: (flags: string) => void,
  canRestart: boolean,
  cores: number = availableParallelism(),
): HeapSizingResult {
  const given = [...execArgv, ...nodeOptions.split(/\s+/).filter((a) => a.length > 0)];
  const result: HeapSizingResult = { applied: [], leftToOperator: [], restartWith: [] };
  const fixedYoung = [`--min-semi-space-size=${HEAP_SIZING_FLAGS.semiSpaceMb}`, `--max-semi-space-size=${HEAP_SIZING_FLAGS.semiSpaceMb}`];
  const liveYoung = `--semi-space-growth-factor=${HEAP_SIZING_FLAGS.semiSpaceGrowthFactor}`;
  const old = `--heap-growing-percent=${HEAP_SIZING_FLAGS.heapGrowingPercent}`;
  const youngGiven = mentions(given, YOUNG_FLAGS);
  const oldGiven = mentions(given, OLD_FLAGS);
  if (youngGiven) result.leftToOperator.push(...(canRestart ? fixedYoung : [liveYoung]));
  if (oldGiven) result.leftToOperator.push(old);
  if (canRestart && !youngGiven) {
    // The helper threads are started with the platform: only a restart can set them, so they
    // ride along with the young generation's restart and never cause one of their own.
    const pool = `--v8-pool-size=${platformThreads(cores)}`;
    const poolGiven = mentions(given, POOL_FLAGS);
    if (poolGiven) result.leftToOperator.push(pool);
    result.restartWith.push(...fixedYoung, ...(oldGiven ? [] : [old]), ...(poolGiven ? [] : [pool]));
    return result;
  }
  for (const flag of [...(youngGiven ? [] : [liveYoung]), ...(oldGiven ? [] : [old])]) {
    setFlags(flag);
    result.applied.push(flag);
  }
  return result;
}

/**
 * Whether this process can replace itself with a Node process started with other flags: the
 * main thread of a plain `node` on a POSIX system, not a single-executable application (whose
 * command line is the application's, not Node's), not itself such a restart, not given an
 * inherited descriptor to read (`--secrets-fd`), and not confined by a security profile. Under AppArmor or SELinux an exec can change the profile (the shipped
 * AppArmor profile runs every program the gateway executes under its `upstream` child profile),
 * so a confined gateway keeps the in-process fallback and takes the flags from its unit's
 * command line instead.
 */
export function canRestartWithFlags(
  env: NodeJS.ProcessEnv = process.env,
  securityLabel: string | undefined = readSecurityLabel(),
  argv: readonly string[] = process.argv,
): boolean {
  if (env[HEAP_SIZING_RESTARTED_ENV] !== undefined) return false;
  // Node marks every descriptor above 2 it inherits close-on-exec, so a restart would lose the
  // one `--secrets-fd N` names (the secrets would be unreadable, or N reused by Node's own
  // event loop). The only descriptor `start` reads besides stdin: such a start is not restarted.
  if (argv.some((arg) => arg === '--secrets-fd' || arg.startsWith('--secrets-fd='))) return false;
  if (typeof process.execve !== 'function' || process.platform === 'win32' || !isMainThread) return false;
  if (securityLabel !== undefined && securityLabel !== '' && securityLabel !== 'unconfined') return false;
  // A single-executable application embeds its script; its argv is not `node <flags> <script>`.
  return !isSingleExecutable();
}

/** This process's security label (AppArmor profile, SELinux context); undefined where no such module is active. */
function readSecurityLabel(): string | undefined {
  try {
    return readFileSync('/proc/self/attr/current', 'utf8').replaceAll('\0', '').trim();
  } catch {
    // No /proc (not Linux), or no security module that labels processes ("Invalid argument").
    return undefined;
  }
}

function isSingleExecutable(): boolean {
  try {
    return process.getBuiltinModule('node:sea').isSea();
  } catch {
    return false;
  }
}

/**
 * Replaces this process with the same Node command line plus `flags` and the environment plus
 * `MALLOC_SETTINGS` (POSIX `execve`: same process id, same open descriptors — stdin not yet
 * read, listeners not yet bound — no exit handlers run). Called before anything else is loaded, so nothing is lost but 40–80 ms of startup.
 */
export function restartWithHeapSizing(flags: readonly string[]): never {
  const args = [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)];
  // execve is checked by canRestartWithFlags; the marker keeps the restart from repeating.
  return (process.execve as NonNullable<typeof process.execve>)(process.execPath, args, restartEnvironment(process.env));
}
