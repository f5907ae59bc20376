import { isDeepStrictEqual } from 'node:util';

/**
 * RFC 9396 authorization details of type `gatehouse_tool_call`: a token that may call one
 * tool of one server, optionally only with arguments inside stated bounds. Example:
 *
 *   { "type": "gatehouse_tool_call", "server": "db", "tool": "query",
 *     "arguments": { "table": { "const": "orders" }, "limit": { "maximum": 100 } } }
 *
 * The constraint vocabulary is deliberately small and decidable (no regular expressions: a
 * client-chosen pattern evaluated on every call would be a denial-of-service lever), so "is
 * this request narrower than that token" has an exact answer at token exchange.
 */
export const TOOL_CALL_TYPE = 'gatehouse_tool_call';

export interface ArgumentConstraint {
  const?: unknown;
  enum?: unknown[];
  /** String arguments must start with this. */
  prefix?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
}

export interface ToolCallDetail {
  type: typeof TOOL_CALL_TYPE;
  server: string;
  tool: string;
  arguments?: Record<string, ArgumentConstraint>;
}

const CONSTRAINT_KEYS = new Set(['const', 'enum', 'prefix', 'minimum', 'maximum', 'maxLength']);
const DETAIL_KEYS = new Set(['type', 'server', 'tool', 'arguments', 'locations', 'actions', 'datatypes', 'identifier', 'privileges']);

/** Why a detail is malformed, or undefined when it is a valid `gatehouse_tool_call`. */
export function toolCallDetailProblem(detail: Record<string, unknown>, knownServer: (name: string) => boolean): string | undefined {
  for (const key of Object.keys(detail)) if (!DETAIL_KEYS.has(key)) return `unknown member "${key}"`;
  if (typeof detail.server !== 'string' || detail.server === '') return '"server" must be a non-empty string';
  if (!knownServer(detail.server)) return `unknown server "${detail.server}"`;
  if (typeof detail.tool !== 'string' || detail.tool === '') return '"tool" must be a non-empty string';
  if (detail.arguments === undefined) return undefined;
  if (typeof detail.arguments !== 'object' || detail.arguments === null || Array.isArray(detail.arguments)) return '"arguments" must be an object';
  for (const [name, constraint] of Object.entries(detail.arguments as Record<string, unknown>)) {
    if (typeof constraint !== 'object' || constraint === null || Array.isArray(constraint)) return `arguments.${name} must be an object of constraints`;
    const c = constraint as Record<string, unknown>;
    if (Object.keys(c).length === 0) return `arguments.${name} has no constraint`;
    for (const key of Object.keys(c))
      if (!CONSTRAINT_KEYS.has(key)) return `arguments.${name}: unsupported constraint "${key}" (use const, enum, prefix, minimum, maximum, maxLength)`;
    if (c.enum !== undefined && (!Array.isArray(c.enum) || c.enum.length === 0)) return `arguments.${name}.enum must be a non-empty array`;
    if (c.prefix !== undefined && typeof c.prefix !== 'string') return `arguments.${name}.prefix must be a string`;
    for (const k of ['minimum', 'maximum'] as const) if (c[k] !== undefined && typeof c[k] !== 'number') return `arguments.${name}.${k} must be a number`;
    if (c.maxLength !== undefined && !(Number.isInteger(c.maxLength) && (c.maxLength as number) >= 0))
      return `arguments.${name}.maxLength must be a non-negative integer`;
  }
  return undefined;
}

export function isToolCallDetail(detail: unknown): detail is ToolCallDetail {
  return typeof detail === 'object' && detail !== null && (detail as { type?: unknown }).type === TOOL_CALL_TYPE;
}

/**
 * `prefix` on a path (it starts with `/` or `file:`) is compared by whole segments:
 * `/srv/public` covers `/srv/public` and `/srv/public/a`, not `/srv/publicity`. (Path
 * arguments reach this check already normalised, so `..` cannot climb out of the prefix.)
 * A prefix ending in `/`, or not a path, is a plain string prefix.
 */
export function prefixCovers(value: string, prefix: string): boolean {
  const path = prefix.startsWith('/') || /^file:/i.test(prefix);
  if (!path || prefix.endsWith('/')) return value.startsWith(prefix);
  return value === prefix || value.startsWith(`${prefix}/`);
}

/** Does one value satisfy one constraint? */
export function satisfies(value: unknown, c: ArgumentConstraint): boolean {
  if (c.const !== undefined && !isDeepStrictEqual(value, c.const)) return false;
  if (c.enum !== undefined && !c.enum.some((e) => isDeepStrictEqual(value, e))) return false;
  if (c.prefix !== undefined && !(typeof value === 'string' && prefixCovers(value, c.prefix))) return false;
  if (c.minimum !== undefined && !(typeof value === 'number' && value >= c.minimum)) return false;
  if (c.maximum !== undefined && !(typeof value === 'number' && value <= c.maximum)) return false;
  if (c.maxLength !== undefined && !(typeof value === 'string' && value.length <= c.maxLength)) return false;
  return true;
}

/** Does a call (server, upstream tool name, arguments) fall inside a detail? */
export function detailAllows(detail: ToolCallDetail, server: string, tool: string, args: Record<string, unknown> | undefined): boolean {
  if (detail.server !== server || detail.tool !== tool) return false;
  for (const [name, constraint] of Object.entries(detail.arguments ?? {})) {
    // A constrained argument must be present: absence would let the tool's default decide.
    if (args === undefined || !Object.hasOwn(args, name)) return false;
    if (!satisfies(args[name], constraint)) return false;
  }
  return true;
}

/** Is every value that satisfies `narrow` also accepted by `wide`? (Sound, not complete: when unsure, no.) */
export function constraintImplies(narrow: ArgumentConstraint, wide: ArgumentConstraint): boolean {
  const values = narrow.const !== undefined ? [narrow.const] : narrow.enum;
  // A finite set of allowed values: check each one.
  if (values !== undefined) return values.every((v) => satisfies(v, narrow) && satisfies(v, wide));
  if (wide.const !== undefined || wide.enum !== undefined) return false;
  if (wide.prefix !== undefined && !(narrow.prefix !== undefined && prefixCovers(narrow.prefix, wide.prefix))) return false;
  if (wide.minimum !== undefined && !(narrow.minimum !== undefined && narrow.minimum >= wide.minimum)) return false;
  if (wide.maximum !== undefined && !(narrow.maximum !== undefined && narrow.maximum <= wide.maximum)) return false;
  if (wide.maxLength !== undefined && !(narrow.maxLength !== undefined && narrow.maxLength <= wide.maxLength)) return false;
  return true;
}

/** Is `narrow` a subset of `wide` (same tool, every constraint of `wide` implied)? */
export function detailWithin(narrow: ToolCallDetail, wide: ToolCallDetail): boolean {
  if (narrow.server !== wide.server || narrow.tool !== wide.tool) return false;
  for (const [name, constraint] of Object.entries(wide.arguments ?? {})) {
    const mine = narrow.arguments?.[name];
    if (!mine || !constraintImplies(mine, constraint)) return false;
  }
  return true;
}
