import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { HEAP_SIZING_FLAGS, HEAP_SIZING_RESTARTED_ENV, MALLOC_SETTINGS, platformThreads } from '../util/heap-sizing.js';

interface Child {
  /** The young generation's resident size after an allocation burst. */
  young: number;
  /** Its capacity (both semi-spaces). */
  capacity: number;
  execArgv: string[];
  pid: number;
  /** The restart marker as the gateway's own code (and its upstreams) would see it. */
  marker: string | null;
  spawnedPid: number | undefined;
  /** V8's helper threads running in it (Linux: threads named V8Worker), or -1 where that cannot be read. */
  v8Workers: number;
  /** The mmap threshold setting in the environment the process started with (/proc/self/environ), and in its process.env now. */
  mallocAtStart: string | null;
  mallocNow: string | null;
}

/** Runs a CLI process whose first word is `command` (with extra Node flags) through start-heap-sizing and an allocation burst. */
function childAfterLoad(command: string, nodeFlags: string[] = [], env: NodeJS.ProcessEnv = process.env): Child {
  // Sources import each other as `.js` (the built layout); resolve those to the `.ts` beside them.
  const script = `
    import v8 from 'node:v8';
    import { registerHooks } from 'node:module';
    registerHooks({ resolve: (s, c, next) => { try { return next(s, c); } catch (e) { if (s.endsWith('.js')) return next(s.slice(0, -3) + '.ts', c); throw e; } } });
    await import(${JSON.stringify(new URL('./start-heap-sizing.ts', import.meta.url).href)});
    const keep = [];
    for (let i = 0; i < 1e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 200000) keep.splice(0, 100000); }
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    const { readdirSync, readFileSync } = await import('node:fs');
    let v8Workers = -1;
    let mallocAtStart = null;
    try { mallocAtStart = readFileSync('/proc/self/environ', 'utf8').split('\\0').find((e) => e.startsWith('MALLOC_MMAP_THRESHOLD_='))?.slice(23) ?? null; } catch {}
    const mallocNow = process.env.MALLOC_MMAP_THRESHOLD_ ?? null;
    try { v8Workers = readdirSync('/proc/self/task').filter((t) => readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim() === 'V8Worker').length; } catch {}
    console.log(JSON.stringify({ young: young.physical_space_size, capacity: young.space_size, execArgv: process.execArgv.filter((a) => a.startsWith('--') && a !== '--input-type=module'), pid: process.pid, marker: process.env.${HEAP_SIZING_RESTARTED_ENV} ?? null, v8Workers, mallocAtStart, mallocNow }));
  `;
  const r = spawnSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script, 'main.js', command, '--config', 'x.yaml'], {
    encoding: 'utf8',
    env,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { ...(JSON.parse(r.stdout.trim()) as Omit<Child, 'spawnedPid'>), spawnedPid: r.pid };
}

const FIXED = [`--min-semi-space-size=${HEAP_SIZING_FLAGS.semiSpaceMb}`, `--max-semi-space-size=${HEAP_SIZING_FLAGS.semiSpaceMb}`];

describe('start-heap-sizing', () => {
  it('sizes the heap of `gatehouse start` before other modules load, and of no other command', () => {
    const start = childAfterLoad('start');
    const status = childAfterLoad('status');
    // Measured: start 8 MB (two fixed 4 MB semi-spaces), status 62-116 MB on a quiet machine.
    // The bound is relative to Node's default young generation, which an unsized start reaches.
    const sizes = `start ${start.young} bytes, status ${status.young} bytes`;
    expect(start.young, sizes).toBeLessThanOrEqual(status.young / 4);
    expect(start.capacity, sizes).toBeLessThanOrEqual(status.capacity / 4);
    // `start` restarted itself in place (same process id) with the flags on its command line,
    // once, and the marker is gone before the gateway (or an upstream it spawns) sees the environment.
    const threads = platformThreads(availableParallelism());
    expect(start.execArgv).toEqual([...FIXED, `--heap-growing-percent=${HEAP_SIZING_FLAGS.heapGrowingPercent}`, `--v8-pool-size=${threads}`]);
    expect(start.pid).toBe(start.spawnedPid);
    // The restarted process runs that many V8 helper threads; other commands keep Node's 4.
    if (process.platform === 'linux') {
      expect(start.v8Workers).toBe(threads);
      expect(status.v8Workers).toBe(4);
    }
    expect(start.marker).toBeNull();
    // It started with a fixed mmap threshold, and no longer has it in its environment (children do not inherit it).
    if (process.platform === 'linux') expect(start.mallocAtStart).toBe(MALLOC_SETTINGS.MALLOC_MMAP_THRESHOLD_);
    expect(start.mallocNow).toBeNull();
    // Other commands are not restarted and keep Node's defaults.
    expect(status.execArgv).toEqual([]);
    expect(status.pid).toBe(status.spawnedPid);
    expect(status.mallocAtStart).toBeNull();
  });

  it("keeps the operator's own mmap threshold, in the restarted process and in what it passes on", () => {
    const start = childAfterLoad('start', [], { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' });
    expect(start.execArgv).toContain(`--heap-growing-percent=${HEAP_SIZING_FLAGS.heapGrowingPercent}`);
    if (process.platform === 'linux') expect(start.mallocAtStart).toBe('65536');
    expect(start.mallocNow).toBe('65536');
    expect(start.marker).toBeNull();
  });

  it("keeps the operator's young generation: no restart, V8's own sizing within the operator's bound", () => {
    const start = childAfterLoad('start', ['--max-semi-space-size=16']);
    expect(start.execArgv).toEqual(['--max-semi-space-size=16']);
    expect(start.marker).toBeNull();
    const viaEnv = childAfterLoad('start', [], { ...process.env, NODE_OPTIONS: '--max-semi-space-size=16' });
    expect(viaEnv.execArgv).toEqual([]);
  });

  it('does not restart a process that already carries the restart marker (no loop)', () => {
    const start = childAfterLoad('start', [], { ...process.env, [HEAP_SIZING_RESTARTED_ENV]: '1' });
    expect(start.execArgv).toEqual([]);
    expect(start.pid).toBe(start.spawnedPid);
    // The fallback still keeps the young generation at its starting size.
    const status = childAfterLoad('status');
    expect(start.young, `start ${start.young}, status ${status.young}`).toBeLessThanOrEqual(status.young / 4);
    expect(start.marker).toBeNull();
  });

  it('runs before the CLI loads anything heavy: the entry point statically imports only it, types and the version', () => {
    // Every static import is loaded (and its allocations made) before the first module body
    // runs, so a heavy static import in main.ts would grow the young generation first.
    const source = readFileSync(new URL('./main.ts', import.meta.url), 'utf8');
    const statics = [...source.matchAll(/^import\s+(type\s+)?(?:[^'"]*?\s+from\s+)?'([^']+)';/gm)].map((m) => ({ type: Boolean(m[1]), from: m[2] }));
    expect(statics[0]).toEqual({ type: false, from: './start-heap-sizing.js' });
    expect(statics.filter((i) => !i.type).map((i) => i.from)).toEqual(['./start-heap-sizing.js', '../version.js']);
  });
});
