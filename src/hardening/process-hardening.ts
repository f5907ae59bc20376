import { existsSync, readFileSync } from 'node:fs';
import { type AddonLoad, loadHardeningAddon, NODUMP_PRELOAD_PATH } from './addon.js';

/** What `gatehouse status` shows as `hardening`. */
export interface HardeningStatus {
  /** True when the process is non-dumpable and cannot write a core file. */
  enabled: boolean;
  addon: boolean;
  /** null when it cannot be read (no addon). */
  dumpable: boolean | null;
  /** RLIMIT_CORE in bytes; null = unlimited. */
  coreLimit: { soft: number | null; hard: number | null } | null;
  /** Whether children are made non-dumpable by the preload library. */
  children: { coreLimit: 'inherited'; dumpable: boolean };
  /** Why hardening is (partly) off; absent when enabled. */
  reason?: string;
}

interface State {
  load: AddonLoad;
  applyError?: string;
}

let state: State | undefined;

/**
 * Makes this process non-dumpable and sets its core-file limit to 0 (soft and hard). Call it
 * first thing, before any secret is read: from then on another process of the same user cannot
 * open /proc/<pid>/mem or environ, cannot ptrace-attach, and a crash writes no core file.
 * Never throws: when the addon is missing the gateway runs unhardened and status says why.
 */
export function hardenProcess(load: () => AddonLoad = loadHardeningAddon): HardeningStatus {
  const loaded = load();
  state = { load: loaded };
  if (loaded.ok) {
    try {
      loaded.addon.disableCoreDumps();
      loaded.addon.setDumpable(false);
    } catch (error) {
      state.applyError = (error as Error).message;
    }
  }
  return hardeningStatus();
}

/** RLIMIT_CORE from /proc/self/limits, which needs no addon. */
export function readCoreLimit(text: string = readFileSync('/proc/self/limits', 'utf8')): { soft: number | null; hard: number | null } | null {
  const line = text.split('\n').find((l) => l.startsWith('Max core file size'));
  const match = line?.match(/^Max core file size\s+(\d+|unlimited)\s+(\d+|unlimited)/);
  if (!match) return null;
  const value = (v: string | undefined) => (v === 'unlimited' || v === undefined ? null : Number(v));
  return { soft: value(match[1]), hard: value(match[2]) };
}

function coreLimitNow(): HardeningStatus['coreLimit'] {
  try {
    return readCoreLimit();
  } catch {
    return null;
  }
}

/** The current state, read live (not what was attempted). */
export function hardeningStatus(): HardeningStatus {
  const coreLimit = coreLimitNow();
  const load = state?.load;
  const children = { coreLimit: 'inherited' as const, dumpable: childPreloadAvailable() };
  if (!load) return { enabled: false, addon: false, dumpable: null, coreLimit, children, reason: 'process hardening was not applied in this process' };
  if (!load.ok) return { enabled: false, addon: false, dumpable: null, coreLimit, children, reason: load.reason };
  let dumpable: boolean | null;
  try {
    dumpable = load.addon.getDumpable() !== 0;
  } catch {
    dumpable = null;
  }
  const coreOff = coreLimit !== null && coreLimit.soft === 0 && coreLimit.hard === 0;
  const enabled = dumpable === false && coreOff;
  const reasons: string[] = [];
  if (state?.applyError) reasons.push(state.applyError);
  if (dumpable !== false) reasons.push('the process is dumpable');
  if (!coreOff) reasons.push('the core-file limit is not 0');
  return { enabled, addon: true, dumpable, coreLimit, children, ...(enabled ? {} : { reason: reasons.join('; ') }) };
}

/**
 * True once hardenProcess loaded the addon and the preload library was built beside it. The
 * dynamic loader splits LD_PRELOAD at spaces and colons, so a path holding one cannot be used.
 */
export function childPreloadAvailable(): boolean {
  return state?.load.ok === true && !/[\s:]/.test(NODUMP_PRELOAD_PATH) && existsSync(NODUMP_PRELOAD_PATH);
}

/** The loaded addon, when hardenProcess succeeded in loading it. */
export function loadedAddon(): AddonLoad | undefined {
  return state?.load;
}
