import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What the native addon (native/hardening/hardening.c) exposes. */
export interface HardeningAddon {
  setDumpable(flag: boolean): number;
  getDumpable(): number;
  disableCoreDumps(): void;
  getCoreLimit(): { soft: number | null; hard: number | null };
  scrubInitialEnvironment(name: string): number;
}

export type AddonLoad = { ok: true; addon: HardeningAddon; path: string } | { ok: false; reason: string };

// The same relative path from src/hardening (tests run the sources) and dist/hardening.
const BUILD_DIR = fileURLToPath(new URL('../../native/hardening/build/Release/', import.meta.url));
export const ADDON_PATH = `${BUILD_DIR}hardening.node`;
/** The LD_PRELOAD library that makes children non-dumpable (see child-env.ts). */
export const NODUMP_PRELOAD_PATH = `${BUILD_DIR}gatehouse_nodump.so`;

const REBUILD_HINT = 'rebuild it with: npm run build:native (needs make, g++ and python3)';

/** Loads the addon; never throws, so a gateway without it still starts (and says why). */
export function loadHardeningAddon(file: string = ADDON_PATH): AddonLoad {
  if (process.platform !== 'linux') return { ok: false, reason: `process hardening uses Linux prctl/setrlimit; not available on ${process.platform}` };
  if (!existsSync(file)) return { ok: false, reason: `native addon not built (${file} is missing); ${REBUILD_HINT}` };
  try {
    const addon = createRequire(import.meta.url)(file) as HardeningAddon;
    for (const name of ['setDumpable', 'getDumpable', 'disableCoreDumps', 'getCoreLimit', 'scrubInitialEnvironment'] as const) {
      if (typeof addon[name] !== 'function') return { ok: false, reason: `native addon ${file} does not export ${name}; ${REBUILD_HINT}` };
    }
    return { ok: true, addon, path: file };
  } catch (error) {
    return { ok: false, reason: `native addon ${file} cannot be loaded: ${(error as Error).message.split('\n')[0]}; ${REBUILD_HINT}` };
  }
}
