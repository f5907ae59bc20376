import { InvalidPathError } from '../errors/index.js';
import { isFileUri, normalizePath } from './normalize-path.js';

/**
 * Argument names that hold file system paths in common MCP servers (server-filesystem's
 * `path`, `paths`, `source`, `destination`, and the usual spellings elsewhere). Used unless
 * `servers.<name>.tools.<tool>.pathArguments` lists a tool's path arguments itself.
 */
export const WELL_KNOWN_PATH_ARGUMENTS: readonly string[] = [
  'path',
  'paths',
  'file',
  'filename',
  'file_path',
  'filePath',
  'directory',
  'dir',
  'source',
  'destination',
];

/** JSON Schema `format` values that mark a string as a path. */
const PATH_FORMATS = new Set(['path', 'file-path', 'filepath']);

export interface PathArgumentOptions {
  /** The tool's own list from config: exactly these arguments are paths (plus `file:` URIs). */
  configured?: readonly string[] | undefined;
  /** The tool's input schema: properties with a path `format` are paths. */
  inputSchema?: object | undefined;
}

/** Which top-level arguments are paths for one tool. */
export function pathArgumentNames(options: PathArgumentOptions): Set<string> {
  if (options.configured) return new Set(options.configured);
  const names = new Set(WELL_KNOWN_PATH_ARGUMENTS);
  const properties = (options.inputSchema as { properties?: Record<string, { format?: unknown; items?: { format?: unknown } }> } | undefined)?.properties;
  if (properties && typeof properties === 'object') {
    for (const [name, schema] of Object.entries(properties)) {
      const format = schema?.format ?? schema?.items?.format;
      if (typeof format === 'string' && PATH_FORMATS.has(format)) names.add(name);
    }
  }
  return names;
}

function normalizeOne(value: string, argument: string): string {
  const normalized = normalizePath(value);
  if (!normalized.ok) throw new InvalidPathError(`Argument "${argument}" is not an acceptable path: it ${normalized.reason}.`, argument);
  return normalized.value;
}

/**
 * The arguments with every path argument (a string, or a list of strings) and every `file:`
 * URI normalised; throws InvalidPathError for one that is refused. Returns `args` itself when
 * nothing changed, so what is checked and what is forwarded are the same object.
 */
export function normalizePathArguments(args: Record<string, unknown>, options: PathArgumentOptions): Record<string, unknown> {
  const names = pathArgumentNames(options);
  const isPath = (name: string, value: unknown): value is string => typeof value === 'string' && (names.has(name) || isFileUri(value));
  let out: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(args)) {
    let next: unknown = value;
    let changed = false;
    if (isPath(name, value)) {
      next = normalizeOne(value, name);
      changed = next !== value;
    } else if (Array.isArray(value) && value.some((v) => isPath(name, v))) {
      const items = value.map((v, i) => (isPath(name, v) ? normalizeOne(v, `${name}[${i}]`) : v));
      changed = items.some((v, i) => v !== value[i]);
      next = items;
    }
    if (changed) {
      out ??= { ...args };
      // An own `__proto__` key from JSON stays an own key.
      Object.defineProperty(out, name, { value: next, enumerable: true, writable: true, configurable: true });
    }
  }
  return out ?? args;
}

/** A resource URI: `file:` URIs normalised like path arguments, others as they are. */
export function normalizeResourceUri(uri: string): string {
  return isFileUri(uri) ? normalizeOne(uri, 'uri') : uri;
}
