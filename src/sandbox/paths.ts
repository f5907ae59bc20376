import { realpathSync } from 'node:fs';
import path from 'node:path';

/** `inner` is `outer` or lies below it (both absolute and normalised). */
export function isAtOrBelow(inner: string, outer: string): boolean {
  if (outer === '/') return true;
  return inner === outer || inner.startsWith(`${outer}/`);
}

/** The real location of an existing path (symlinks resolved), or undefined when it does not exist. */
export function realPath(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** Segments below the root: mounts are applied parents first so a deeper mount is not covered. */
export function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}

export function resolveFrom(baseDir: string, p: string): string {
  return path.resolve(baseDir, p);
}
