/**
 * Longest string a log line or an audit record keeps (UTF-16 code units); the rest is cut with
 * a note of how much. Text an attacker sends (a client name, an unknown tool's name, an
 * upstream's error) reaches both; cutting it first bounds what every later scan, the redactors
 * included, has to read.
 */
export const MAX_RECORDED_STRING = 16 * 1024;

/** Past this depth nothing is copied (canonical JSON stops there too). */
const MAX_DEPTH = 64;

const isPlain = (value: object): boolean => {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…[${text.length - max} more chars]` : text;
}

function hasLong(value: unknown, max: number, depth: number): boolean {
  if (typeof value === 'string') return value.length > max;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || !isPlain(value)) return false;
  if (Array.isArray(value)) return value.some((item: unknown) => hasLong(item, max, depth + 1));
  for (const key of Object.keys(value)) if (key.length > max || hasLong((value as Record<string, unknown>)[key], max, depth + 1)) return true;
  return false;
}

function copy(value: unknown, max: number, depth: number): unknown {
  if (typeof value === 'string') return cut(value, max);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || !isPlain(value)) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => copy(item, max, depth + 1));
  // No prototype, so a member called "__proto__" stays a member.
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) out[cut(key, max)] = copy((value as Record<string, unknown>)[key], max, depth + 1);
  return out;
}

/**
 * `value` with every string and member name longer than `max` cut, copying only when something
 * is that long (the common case costs one walk and no allocation). Plain objects and arrays
 * are walked; other objects (errors, dates) are kept as they are.
 */
export function capStrings<T>(value: T, max = MAX_RECORDED_STRING): T {
  return hasLong(value, max, 0) ? (copy(value, max, 0) as T) : value;
}
