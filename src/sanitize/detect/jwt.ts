// JSON Web Tokens (RFC 7519): the preset has no rule for them. A linear scanner, not a
// regular expression: a JWS compact serialization is three base64url parts joined by dots
// (RFC 7515 §7.1), a JWE five (RFC 7516 §7.1); the first part must decode to a JSON object
// with an `alg` string (and `enc` for a JWE), which rules out ordinary dotted identifiers.

/** Headers longer than this are not decoded (real ones, even with a `jwk`, are far shorter). */
const MAX_HEADER = 4096;
/**
 * A header may start a little way into a base64url run: `Bearer%20eyJ…`, `%22eyJ…`. Further
 * in, the run is some other token (and checking every `eyJ` of a long run would be quadratic).
 */
const MAX_LEAD = 4;

function isB64Url(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
}

function runEnd(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && isB64Url(text.charCodeAt(i))) i++;
  return i;
}

interface Header {
  alg: string;
  jwe: boolean;
}

function decodeHeader(part: string): Header | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const record = parsed as Record<string, unknown>;
  if (typeof record.alg !== 'string') return null;
  return { alg: record.alg, jwe: typeof record.enc === 'string' };
}

/**
 * Calls `onToken(start, end)` for every JWT in `text[from, to)`. Linear: a candidate is only
 * checked near the start of its base64url run, each run is scanned once, and a header is
 * decoded only when a dot follows it.
 */
export function findJwts(text: string, from: number, to: number, onToken: (start: number, end: number) => void): void {
  let pos = from;
  while (pos < to) {
    // `{"` base64url-encodes to `eyJ`: every JSON header starts with it.
    const p = text.indexOf('eyJ', pos);
    if (p === -1 || p + 3 > to) return;
    let lead = 0;
    while (lead <= MAX_LEAD && p - lead > from && isB64Url(text.charCodeAt(p - lead - 1))) lead++;
    const headerEnd = runEnd(text, p + 3, to);
    if (lead > MAX_LEAD || headerEnd >= to || text.charCodeAt(headerEnd) !== 0x2e || headerEnd - p > MAX_HEADER) {
      pos = headerEnd;
      continue;
    }
    const header = decodeHeader(text.slice(p, headerEnd));
    if (header === null) {
      pos = headerEnd;
      continue;
    }
    // JWS: header.payload.signature, payload non-empty (the signature is empty only for
    // `alg: none`, still a token). JWE: header.key.iv.ciphertext.tag, ciphertext non-empty
    // (the key is empty with `dir`).
    const parts = header.jwe ? 5 : 3;
    const required = header.jwe ? 3 : 1;
    let end = headerEnd;
    let ok = true;
    for (let part = 1; part < parts; part++) {
      if (end >= to || text.charCodeAt(end) !== 0x2e) {
        ok = false;
        break;
      }
      const partEnd = runEnd(text, end + 1, to);
      if (part === required && partEnd === end + 1) {
        ok = false;
        break;
      }
      end = partEnd;
    }
    if (!ok) {
      pos = headerEnd;
      continue;
    }
    onToken(p, end);
    pos = end;
  }
}
