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
 * literal of `text` with one level of escaping removed (`\uXXXX` escapes stay as written:
 * they are a form the detectors read); otherwise none. Every literal, not only those: a value
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
    } else {
      chars.push(c);
      i++;
    }
  }
  map[n] = to;
  return { text: chars.join(''), map: map.subarray(0, n + 1) };
}
