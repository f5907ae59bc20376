// JSON text inside a string of JSON text (a result serialized twice, a JSON document held in
// a member of another) writes its own quotes and backslashes escaped once more: `\"`, `\\`.
// Read raw, a held value in its `\u` form there is `\\u0041…` and the members of the inner
// document are not literals. The exit point also reads each such literal with one level of
// escaping removed, and maps what it finds back to the characters of the raw text.

/** A literal of JSON text read with one level of escaping removed. */
export interface Unescaped {
  text: string;
  /** Offset in the raw text of each character of `text`, and of its end (`map[text.length]`). */
  map: Int32Array;
}

const SIMPLE: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };

/**
 * When a literal of `text` holds an escaped quote or backslash (JSON text inside it), every
 * literal of `text` with one level of escaping removed (`\uXXXX` decoded as well, so a
 * value right after an escaped no-break space is found; the raw literal keeps its `\u` form for
 * held values, and `\\u0041` one level down is `\u0041`, the inner text's own escape); otherwise none. Every literal, not only those: a value
 * split across the members of the inner document has pieces without escapes too, and the
 * reading orders of the literals (values only, one shape) are read over these texts as over
 * the raw ones. The literals are those the reading orders find (split-streams.ts): each
 * closed one, and an unclosed last one when it is not empty. Linear in the text.
 */
export function unescapedLiterals(text: string): Unescaped[] {
  const spans: number[] = [];
  let nestedAny = false;
  let open = text.indexOf('"');
  while (open >= 0) {
    let at = open + 1;
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c === 0x5c) {
        const next = text.charCodeAt(at + 1);
        if (next === 0x22 || next === 0x5c) nestedAny = true;
        at += 2;
      } else if (c === 0x22) break;
      else at++;
    }
    const end = Math.min(at, text.length);
    if (at < text.length || end > open + 1) spans.push(open + 1, end);
    if (at >= text.length) break;
    open = text.indexOf('"', at + 1);
  }
  if (!nestedAny) return [];
  const out: Unescaped[] = [];
  for (let k = 0; k < spans.length; k += 2) out.push(oneLevelDown(text, spans[k]!, spans[k + 1]!));
  return out;
}

function oneLevelDown(text: string, from: number, to: number): Unescaped {
  const chars: string[] = [];
  const map = new Int32Array(to - from + 1);
  let n = 0;
  for (let i = from; i < to; ) {
    const c = text[i]!;
    const simple = c === '\\' && i + 1 < to ? SIMPLE[text[i + 1]!] : undefined;
    map[n++] = i;
    if (simple !== undefined) {
      chars.push(simple);
      i += 2;
    } else if (c === '\\' && i + 5 < to && text[i + 1] === 'u' && isHex4(text, i + 2)) {
      // One UTF-16 code unit per escape: a surrogate pair is two escapes, each mapped to its own.
      chars.push(String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16)));
      i += 6;
    } else {
      chars.push(c);
      i++;
    }
  }
  map[n] = to;
  return { text: chars.join(''), map: map.subarray(0, n + 1) };
}

/**
 * When no literal of `text` holds JSON text (`unescapedLiterals` is empty), the literals that
 * hold another escape (`\n`, `\t`, `\r`, `\b`, `\f`, `\/`, `\uXXXX`) with it removed. Read
 * raw, the escape's letter joins what follows it (`\n10.0.0.1` reads `n10.0.0.1`, no address;
 * `\u00a010.0.0.1` reads `a010.0.0.1`), and data written wholly in `\u` form (as serializers
 * that escape everything but ASCII write it) is not the data; read unescaped, values are found
 * and mapped back to the raw characters. The raw literal is still read as well: held values are
 * matched in their `\u` form there. Only these literals: the raw literals' reading orders
 * already join the others.
 */
export function escapedLiterals(text: string): Unescaped[] {
  const out: Unescaped[] = [];
  let open = text.indexOf('"');
  while (open >= 0) {
    let at = open + 1;
    let escaped = false;
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c === 0x5c) {
        const next = text[at + 1];
        if (next !== undefined && (SIMPLE[next] !== undefined || (next === 'u' && isHex4(text, at + 2)))) escaped = true;
        at += 2;
      } else if (c === 0x22) break;
      else at++;
    }
    const end = Math.min(at, text.length);
    if (escaped) out.push(oneLevelDown(text, open + 1, end));
    if (at >= text.length) break;
    open = text.indexOf('"', at + 1);
  }
  return out;
}

function isHex4(text: string, at: number): boolean {
  if (at + 4 > text.length) return false;
  for (let k = at; k < at + 4; k++) {
    const c = text.charCodeAt(k);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * `[start, end)` widened to whole escapes at its ends: a range that begins or ends inside
 * `\n` or `\u0041` would leave half an escape behind its placeholder (`line\[REDACTED:…]`,
 * no longer JSON). Text that is not JSON loses at most the backslash and a few characters
 * more to the mask.
 */
export function widenOverEscapes(text: string, start: number, end: number): [number, number] {
  const head = escapeAround(text, start, false);
  const tail = end > start ? escapeAround(text, end - 1, true) : -1;
  return [head >= 0 ? head : start, tail >= 0 ? tail : end];
}

/**
 * The escape that `i` lies inside (not at its backslash, unless `atBackslash`): its start
 * when `atBackslash` is false, its end when it is true; -1 when there is none.
 */
function escapeAround(text: string, i: number, wantEnd: boolean): number {
  for (let j = i - (wantEnd ? 0 : 1); j >= 0 && j >= i - 5; j--) {
    if (text.charCodeAt(j) !== 0x5c) continue;
    // Backslashes pair up from the start of their run: j begins an escape when an even number stand before it.
    let k = j;
    while (k > 0 && text.charCodeAt(k - 1) === 0x5c) k--;
    if (((j - k) & 1) === 1) continue;
    const length = text.charCodeAt(j + 1) === 0x75 ? 6 : 2;
    const escapeEnd = Math.min(j + length, text.length);
    if (escapeEnd <= i) return -1; // the nearest escape ends before `i`
    if (!wantEnd) return j < i ? j : -1;
    return escapeEnd > i + 1 ? escapeEnd : -1;
  }
  return -1;
}
