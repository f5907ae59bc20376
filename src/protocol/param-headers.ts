import { decodeHeaderValue, type HeaderProblem } from './request-headers.js';
import { ModernRpcCode } from './revision.js';

/** One `x-mcp-header` annotation: the header `Mcp-Param-{name}` mirrors the argument at `path`. */
export interface ParamHeader {
  name: string;
  path: readonly string[];
}

/** RFC 9110 token characters (field-name syntax), bounded. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;
/** Annotations looked at per tool, and depth followed: a bounded walk whatever the upstream declares. */
const MAX_HEADERS = 32;
const MAX_DEPTH = 8;

/**
 * The `x-mcp-header` annotations of a tool's input schema (streamable-http §schema-extension),
 * reachable from the root through `properties` keys only. Annotations that break the rules
 * (bad token, duplicates, not a primitive) make the set invalid: undefined, and the caller
 * checks nothing it could get wrong.
 */
export function paramHeadersOf(inputSchema: unknown): ParamHeader[] | undefined {
  const found: ParamHeader[] = [];
  const seen = new Set<string>();
  const walk = (schema: unknown, path: string[]): boolean => {
    if (typeof schema !== 'object' || schema === null || path.length > MAX_DEPTH) return true;
    const node = schema as Record<string, unknown>;
    const header = node['x-mcp-header'];
    if (header !== undefined && path.length > 0) {
      if (typeof header !== 'string' || !TOKEN.test(header) || seen.has(header.toLowerCase())) return false;
      if (!['string', 'integer', 'boolean'].includes(node.type as string)) return false;
      seen.add(header.toLowerCase());
      found.push({ name: header, path });
      if (found.length > MAX_HEADERS) return false;
    }
    const properties = node.properties;
    if (typeof properties !== 'object' || properties === null) return true;
    for (const [key, child] of Object.entries(properties)) if (!walk(child, [...path, key])) return false;
    return true;
  };
  return walk(inputSchema, []) ? found : undefined;
}

const mismatch = (message: string): HeaderProblem => ({ status: 400, code: ModernRpcCode.HeaderMismatch, message, gatehouseCode: 'mcp.header_mismatch' });

/** The argument at `path`, or undefined when absent (or null: the client omits the header then). */
function valueAt(args: unknown, path: readonly string[]): unknown {
  let value = args;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value ?? undefined;
}

/** Does the decoded header text stand for `value` (streamable-http §value-encoding; integers compared numerically)? */
function matches(text: string, value: unknown): boolean {
  if (typeof value === 'string') return text === value;
  if (typeof value === 'boolean') return text === String(value);
  if (typeof value === 'number') return text.trim() !== '' && Number(text) === value;
  return false;
}

/**
 * Checks the `Mcp-Param-*` headers of a `tools/call` against its arguments (streamable-http
 * §server-validation): each annotated argument present in the body must be mirrored, exactly,
 * and no header may claim a value the body does not have.
 */
export function checkParamHeaders(header: (name: string) => string | undefined, specs: readonly ParamHeader[], args: unknown): HeaderProblem | undefined {
  for (const spec of specs) {
    const raw = header(`mcp-param-${spec.name.toLowerCase()}`);
    const value = valueAt(args, spec.path);
    if (raw === undefined) {
      if (value !== undefined) return mismatch(`Header mismatch: Mcp-Param-${spec.name} header is required`);
      continue;
    }
    const decoded = decodeHeaderValue(raw);
    if (decoded === undefined) return mismatch(`Header mismatch: Mcp-Param-${spec.name} header value is malformed`);
    if (value === undefined || !matches(decoded, value)) return mismatch(`Header mismatch: Mcp-Param-${spec.name} header does not match the body`);
  }
  return undefined;
}
