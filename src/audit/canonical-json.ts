/**
 * Deterministic JSON: object keys sorted by UTF-16 code units, no whitespace, `undefined`
 * members dropped (as JSON.stringify does). Equal values always serialize to equal text, so
 * hashes over it are stable across processes and releases. Numbers use JSON.stringify's
 * shortest round-trip form, which is what RFC 8785 prescribes too.
 *
 * Throws a CanonicalJsonError for a value that has no canonical form: a non-finite number
 * (RFC 8785 §3.2.2.3: NaN and Infinity must cause an error; a client's `1e400` parses as
 * Infinity), nesting deeper than MAX_CANONICAL_DEPTH, or a cycle. Code that handles values a
 * client sent uses `canonicalJsonProblem` or `canonicalJsonExtended`, which never throw.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, 0, false);
}

/**
 * `canonicalJson` that describes instead of refusing: a non-finite number is written as the
 * string `"[Infinity]"` (`"[-Infinity]"`, `"[NaN]"`), a value nested deeper than
 * MAX_CANONICAL_DEPTH (or a cycle) as `"[depth limit]"`. Valid JSON, never throws for data:
 * for records that must be written whatever they hold.
 */
export function canonicalJsonLenient(value: unknown): string {
  return serialize(value, 0, true);
}

/**
 * Deeper than any record Gatehouse writes or any tool argument it forwards; past it the value
 * is taken to be cyclic. Bounding the depth also bounds the recursion, so serializing can
 * never exhaust the stack whatever a client nests.
 */
export const MAX_CANONICAL_DEPTH = 64;

export type CanonicalJsonProblem = 'non_finite_number' | 'too_deep';

export class CanonicalJsonError extends TypeError {
  constructor(readonly problem: CanonicalJsonProblem) {
    super(problem === 'non_finite_number' ? 'canonicalJson: non-finite number' : `canonicalJson: cyclic value (or nested deeper than ${MAX_CANONICAL_DEPTH})`);
  }
}

/** Why `canonicalJson(value)` would throw, or undefined when it would not. Never throws for data parsed from JSON. */
export function canonicalJsonProblem(value: unknown): CanonicalJsonProblem | undefined {
  try {
    serialize(value, 0, false);
    return undefined;
  } catch (error) {
    if (error instanceof CanonicalJsonError) return error.problem;
    throw error;
  }
}

function serialize(value: unknown, depth: number, lenient: boolean): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        if (lenient) return `"[${String(value)}]"`;
        throw new CanonicalJsonError('non_finite_number');
      }
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      if (depth > MAX_CANONICAL_DEPTH) {
        if (lenient) return '"[depth limit]"';
        throw new CanonicalJsonError('too_deep');
      }
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += (i > 0 ? ',' : '') + (v === undefined || typeof v === 'function' ? 'null' : serialize(v, depth + 1, lenient));
        }
        return `${out}]`;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return serialize((value as { toJSON(): unknown }).toJSON(), depth + 1, lenient);
      let out = '{';
      let first = true;
      for (const key of Object.keys(value).sort()) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
        out += `${first ? '' : ','}${JSON.stringify(key)}:${serialize(member, depth + 1, lenient)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return 'null';
  }
}

type Frame = { array: readonly unknown[]; index: number } | { object: Record<string, unknown>; keys: string[]; index: number; first: boolean };

/**
 * Canonical JSON extended to every value a client can send, for hashing: identical to
 * `canonicalJson` wherever that succeeds; otherwise non-finite numbers are written as the bare
 * tokens `Infinity`, `-Infinity` and `NaN` and nesting is unlimited. The extension tokens are
 * not JSON, so an extended text never equals the canonical text of another value: hashes over
 * it still tell every two different arguments apart. Iterative, so no depth exhausts the
 * stack; never throws (a cycle, which JSON cannot express, is written as `"[cycle]"`).
 */
export function canonicalJsonExtended(value: unknown): string {
  let out = '';
  const stack: Frame[] = [];
  const open = new Set<object>();
  const containers: object[] = [];
  let next: unknown = value;
  let pending = true;
  for (;;) {
    if (pending) {
      pending = false;
      let v = next;
      // As canonicalJson does: an object's toJSON result is serialized in its place (Dates).
      for (let hops = 0; v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { toJSON?: unknown }).toJSON === 'function'; hops++) {
        try {
          v = hops < 8 ? (v as { toJSON(): unknown }).toJSON() : '[toJSON loop]';
        } catch {
          v = '[toJSON failed]';
        }
      }
      if (v === null || typeof v !== 'object') out += scalar(v);
      else if (open.has(v)) out += '"[cycle]"';
      else {
        open.add(v);
        containers.push(v);
        if (Array.isArray(v)) {
          out += '[';
          stack.push({ array: v, index: 0 });
        } else {
          out += '{';
          stack.push({ object: v as Record<string, unknown>, keys: Object.keys(v).sort(), index: 0, first: true });
        }
      }
    }
    const top = stack[stack.length - 1];
    if (!top) return out;
    if ('array' in top) {
      if (top.index < top.array.length) {
        const item = top.array[top.index];
        out += top.index > 0 ? ',' : '';
        top.index++;
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') out += 'null';
        else {
          next = item;
          pending = true;
        }
        continue;
      }
      out += ']';
    } else {
      let member: unknown;
      let key: string | undefined;
      while (top.index < top.keys.length) {
        key = top.keys[top.index++] as string;
        member = top.object[key];
        if (member !== undefined && typeof member !== 'function' && typeof member !== 'symbol') break;
        key = undefined;
      }
      if (key !== undefined) {
        out += `${top.first ? '' : ','}${JSON.stringify(key)}:`;
        top.first = false;
        next = member;
        pending = true;
        continue;
      }
      out += '}';
    }
    stack.pop();
    open.delete(containers.pop() as object);
  }
}

function scalar(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    default:
      return 'null';
  }
}
