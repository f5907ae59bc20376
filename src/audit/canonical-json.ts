/**
 * Deterministic JSON: object keys sorted by UTF-16 code units, no whitespace, `undefined`
 * members dropped (as JSON.stringify does). Equal values always serialize to equal text, so
 * hashes over it are stable across processes and releases. Numbers use JSON.stringify's
 * shortest round-trip form, which is what RFC 8785 prescribes too.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, new Set());
}

function serialize(value: unknown, seen: Set<object>): string {
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
      if (seen.has(value)) throw new TypeError('canonicalJson: cyclic value');
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        out = `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : serialize(v, seen))).join(',')}]`;
      } else {
        const source = typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value;
        if (source !== value) {
          seen.delete(value);
          return serialize(source, seen);
        }
        const parts: string[] = [];
        for (const key of Object.keys(value).sort()) {
          const member = (value as Record<string, unknown>)[key];
          if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
          parts.push(`${JSON.stringify(key)}:${serialize(member, seen)}`);
        }
        out = `{${parts.join(',')}}`;
      }
      seen.delete(value);
      return out;
    }
    default:
      return 'null';
  }
}
