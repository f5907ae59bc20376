import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isAtOrBelow, realPath } from './paths.js';

export interface ProgramPaths {
  /** The command as an absolute path (looked up on the child's PATH like execvp would). */
  executable: string;
  /** Folders (and files) the program needs to read to run at all. */
  readable: string[];
}

function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** execvp's lookup: a name with a slash is a path (relative to cwd); else the first match on PATH. */
export function findExecutable(command: string, cwd: string, searchPath: string | undefined): string | undefined {
  if (command.includes('/')) {
    const p = path.resolve(cwd, command);
    return isExecutableFile(p) ? p : undefined;
  }
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue;
    const p = path.join(dir, command);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

/**
 * Where a command was installed: `<prefix>/bin/tool` → `<prefix>` (so `npx` finds npm under
 * `<prefix>/lib` and the `node` beside it), else the command's own folder. Never a folder that
 * holds `home` (a `~/bin/tool` exposes `~/bin` only).
 */
function installRoot(file: string, home: string | undefined): string {
  const folder = path.dirname(file);
  if (path.basename(folder) !== 'bin') return folder;
  const prefix = path.dirname(folder);
  if (prefix === '/' || (home && isAtOrBelow(home, prefix))) return folder;
  return prefix;
}

/**
 * The package a script belongs to, so its imports resolve: a file inside `node_modules` needs
 * the outermost `node_modules` folder (dependencies are hoisted there); any other file the
 * nearest folder with a package.json, pyproject.toml or go.mod; failing that, its own folder.
 * Never the root or a folder that holds `home`.
 */
function packageRoot(file: string, home: string | undefined): string {
  const marker = file.indexOf('/node_modules/');
  if (marker >= 0) return file.slice(0, marker + '/node_modules'.length);
  const own = path.dirname(file);
  for (let dir = own; dir !== '/'; dir = path.dirname(dir)) {
    if (home && isAtOrBelow(home, dir)) break;
    if (['package.json', 'pyproject.toml', 'go.mod'].some((m) => existsSync(path.join(dir, m)))) return dir;
  }
  return own;
}

/**
 * What a stdio server needs to read to start: its command's installation and, for every
 * argument naming an existing file (`node server.mjs`, `python tool.py`), that file's package.
 * Arguments naming folders are data, not program: they are granted explicitly or not at all.
 */
export function programPaths(command: string, args: readonly string[], cwd: string, searchPath: string | undefined, home: string | undefined): ProgramPaths {
  const executable = findExecutable(command, cwd, searchPath);
  const readable = new Set<string>();
  if (executable) {
    readable.add(installRoot(executable, home));
    const real = realPath(executable);
    if (real && real !== executable) readable.add(installRoot(real, home));
  }
  for (const arg of args) {
    if (arg.length === 0 || arg.length > 4096 || arg.startsWith('-') || arg.includes('\0')) continue;
    if (!arg.includes('/') && !/\.[A-Za-z0-9]{1,5}$/.test(arg)) continue;
    const candidate = path.resolve(cwd, arg);
    let isFile = false;
    try {
      isFile = statSync(candidate).isFile();
    } catch {
      continue;
    }
    if (!isFile) continue;
    readable.add(packageRoot(candidate, home));
    const real = realPath(candidate);
    if (real && real !== candidate) readable.add(packageRoot(real, home));
  }
  return { executable: executable ?? command, readable: [...readable] };
}
