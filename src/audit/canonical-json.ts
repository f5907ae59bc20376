/**
 * Deterministic JSON: object keys sorted by UTF-16 code units, no whitespace, `undefined`
 * members dropped (as JSON.stringify does). Equal values always serialize to equal text, so
 * hashes over it are stable across processes and releases. Numbers use JSON.stringify's
 * shortest round-trip form, which is what RFC 8785 prescribes too.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, 0);
}

/** Deeper than any record Gatehouse writes; past it the value is taken to be cyclic. */
const MAX_DEPTH = 64;

function serialize(value: unknown, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      if (depth > MAX_DEPTH) throw new TypeError('canonicalJson: cyclic value (or nested deeper than 64)');
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += (i > 0 ? ',' : '') + (v === undefined || typeof v === 'function' ? 'null' : serialize(v, depth + 1));
        }
        return `${out}]`;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return serialize((value as { toJSON(): unknown }).toJSON(), depth + 1);
      let out = '{';
      let first = true;
      for (const key of Object.keys(value).sort()) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
        out += `${first ? '' : ','}${JSON.stringify(key)}:${serialize(member, depth + 1)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return 'null';
  }
}
