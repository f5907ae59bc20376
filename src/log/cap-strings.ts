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

/** Cuts one string longer than `max`; the default keeps the first `max` characters. */
export type Cutter = (text: string, max: number) => string;

const plainCut: Cutter = (text, max) => `${text.slice(0, max)}…[${text.length - max} more chars]`;

const longError = (value: Error, max: number): boolean => value.message.length > max || (value.stack?.length ?? 0) > max;

function hasLong(value: unknown, max: number, depth: number): boolean {
  if (typeof value === 'string') return value.length > max;
  if (value instanceof Error) return longError(value, max);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || !isPlain(value)) return false;
  if (Array.isArray(value)) return value.some((item: unknown) => hasLong(item, max, depth + 1));
  for (const key of Object.keys(value)) if (key.length > max || hasLong((value as Record<string, unknown>)[key], max, depth + 1)) return true;
  return false;
}

function copy(value: unknown, max: number, depth: number, cut: Cutter): unknown {
  if (typeof value === 'string') return value.length > max ? cut(value, max) : value;
  if (value instanceof Error && longError(value, max)) {
    // The same kind of error with its long parts cut (an upstream's error message can echo a
    // whole argument); its own fields are copied like any other object's.
    const capped = Object.create(Object.getPrototypeOf(value) as object) as Error;
    for (const key of Object.keys(value))
      (capped as unknown as Record<string, unknown>)[key] = copy((value as unknown as Record<string, unknown>)[key], max, depth + 1, cut);
    const hidden = (text: string) => ({ value: text.length > max ? cut(text, max) : text, writable: true, configurable: true, enumerable: false });
    Object.defineProperty(capped, 'message', hidden(value.message));
    if (value.stack !== undefined) Object.defineProperty(capped, 'stack', hidden(value.stack));
    return capped;
  }
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || !isPlain(value)) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => copy(item, max, depth + 1, cut));
  // No prototype, so a member called "__proto__" stays a member.
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) out[key.length > max ? cut(key, max) : key] = copy((value as Record<string, unknown>)[key], max, depth + 1, cut);
  return out;
}

/**
 * `value` with every string and member name longer than `max` cut, copying only when something
 * is that long (the common case costs one walk and no allocation). Plain objects and arrays
 * are walked, and errors with a long message; other objects (dates) are kept as they are.
 * Pass a redactor's `cut` so a secret that crosses the cut is replaced, not left half-cut.
 */
export function capStrings<T>(value: T, max = MAX_RECORDED_STRING, cut: Cutter = plainCut): T {
  return hasLong(value, max, 0) ? (copy(value, max, 0, cut) as T) : value;
}
