// The text every detector matches against: the original string with invisible and format
// characters removed and a few look-alike encodings folded back to ASCII, plus a map from
// view offsets to original offsets. A value split by zero-width characters, wrapped in bidi
// controls, decorated with combining marks or spelled in fullwidth forms or Unicode tag
// characters reads (to a model) as the plain value; the detectors must see it the same way.
//
// Strings without any such character (the common case) are used as they are: no copy, no map.

/** Per UTF-16 code unit: 0 keep, 1 drop, 2 fold (see FOLD), 3 high surrogate of plane 14. */
const KIND = new Uint8Array(65536);
/** For KIND 2: the ASCII code unit it folds to. */
const FOLD = new Uint16Array(65536);

const DROP = 1;
const FOLDS = 2;
const PLANE14_HIGH = 3;

function dropRange(from: number, to: number): void {
  for (let c = from; c <= to; c++) KIND[c] = DROP;
}

/**
 * Dropped before matching. The required set: zero-width and directional marks
 * (U+200B–U+200F), word joiner and invisible operators (U+2060–U+2064), BOM / zero-width
 * no-break space (U+FEFF), soft hyphen (U+00AD), bidi embeddings and overrides
 * (U+202A–U+202E) and isolates (U+2066–U+2069). Also dropped, because they are just as
 * invisible or only decorate the preceding character: deprecated format controls
 * (U+206A–U+206F), combining grapheme joiner (U+034F), Arabic letter mark (U+061C),
 * Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), Khmer inherent vowels (U+17B4, U+17B5),
 * Mongolian variation selectors (U+180B–U+180F), variation selectors (U+FE00–U+FE0F),
 * interlinear annotation controls (U+FFF9–U+FFFB) and the combining diacritical mark blocks
 * (U+0300–U+036F, U+1AB0–U+1AFF, U+1DC0–U+1DFF, U+20D0–U+20FF, U+FE20–U+FE2F): an
 * appended U+0301 must not hide "secret" as "secreté".
 */
KIND[0x00ad] = DROP;
dropRange(0x0300, 0x036f);
KIND[0x061c] = DROP;
KIND[0x115f] = DROP;
KIND[0x1160] = DROP;
KIND[0x17b4] = DROP;
KIND[0x17b5] = DROP;
dropRange(0x180b, 0x180f);
dropRange(0x1ab0, 0x1aff);
dropRange(0x1dc0, 0x1dff);
dropRange(0x200b, 0x200f);
dropRange(0x202a, 0x202e);
dropRange(0x2060, 0x206f);
dropRange(0x20d0, 0x20ff);
KIND[0x3164] = DROP;
dropRange(0xfe00, 0xfe0f);
dropRange(0xfe20, 0xfe2f);
KIND[0xfeff] = DROP;
KIND[0xffa0] = DROP;
dropRange(0xfff9, 0xfffb);
// Fullwidth ASCII (U+FF01–U+FF5E) reads as ASCII.
for (let c = 0xff01; c <= 0xff5e; c++) {
  KIND[c] = FOLDS;
  FOLD[c] = c - 0xff01 + 0x21;
}
// Plane 14: tag characters (U+E0000–U+E007F; U+E0020–U+E007E spell ASCII invisibly, the
// "ASCII smuggling" channel) and variation selectors supplement (U+E0100–U+E01EF). All start
// with the high surrogate U+DB40.
KIND[0xdb40] = PLANE14_HIGH;

/** The smallest code unit with a non-zero KIND: everything below is kept as is. */
const FIRST_SPECIAL = 0x00ad;

export interface TextView {
  /** The text detectors match against. */
  readonly text: string;
  /**
   * null when `text` is the original string. Otherwise `map[i]` is the original offset of
   * view character i, and `map[text.length]` the original length.
   */
  readonly map: Int32Array | null;
}

/** Whether `c` (a code unit) is removed or folded by the view. */
export function isSpecialCodeUnit(c: number): boolean {
  return c >= FIRST_SPECIAL && KIND[c] !== 0;
}

/** The view of `s[0, end)`: `s` itself when nothing needs removing or folding. */
export function makeView(s: string, end: number = s.length): TextView {
  let i = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= FIRST_SPECIAL && KIND[c] !== 0) break;
  }
  if (i === end) return { text: end === s.length ? s : s.slice(0, end), map: null };
  return buildView(s, end, i);
}

function buildView(s: string, end: number, firstSpecial: number): TextView {
  const map = new Int32Array(end + 1);
  const codes = new Uint16Array(end);
  let n = 0;
  for (let i = 0; i < firstSpecial; i++) {
    codes[n] = s.charCodeAt(i);
    map[n++] = i;
  }
  for (let i = firstSpecial; i < end; i++) {
    const c = s.charCodeAt(i);
    const kind = c >= FIRST_SPECIAL ? KIND[c] : 0;
    if (kind === 0) {
      codes[n] = c;
      map[n++] = i;
    } else if (kind === FOLDS) {
      codes[n] = FOLD[c]!;
      map[n++] = i;
    } else if (kind === PLANE14_HIGH) {
      const low = i + 1 < end ? s.charCodeAt(i + 1) : 0;
      if (low >= 0xdc00 && low <= 0xddef) {
        // U+E0000–U+E01EF: tag characters and variation selectors supplement.
        const scalar = 0xe0000 + (low - 0xdc00);
        if (scalar >= 0xe0020 && scalar <= 0xe007e) {
          codes[n] = scalar - 0xe0000;
          map[n++] = i;
        }
        i++;
      } else {
        // Another plane-14 character (or a lone surrogate): keep it as it is.
        codes[n] = c;
        map[n++] = i;
      }
    }
    // DROP: nothing.
  }
  map[n] = end;
  let text = '';
  // String.fromCharCode on chunks: a single call with a huge argument list overflows the stack.
  for (let k = 0; k < n; k += 8192) {
    text += String.fromCharCode.apply(null, codes.subarray(k, Math.min(n, k + 8192)) as unknown as number[]);
  }
  return { text, map: map.subarray(0, n + 1) };
}

/** The original offset of view offset `i` (0 ≤ i ≤ view length). */
export function toOriginal(view: TextView, i: number): number {
  return view.map === null ? i : view.map[i]!;
}

/** `s` with every dropped character removed and folded ones folded (used for held values). */
export function normalizeValue(s: string): string {
  return makeView(s).text;
}

/** Non-zero for every code unit `makeView` removes or folds (for scanners that stop on them). */
export const SPECIAL_CODE_UNITS: Readonly<Uint8Array> = KIND;

/** Random access to several strings as if concatenated (no copy). */
export class JoinedText {
  readonly length: number;
  private readonly bases: Int32Array;
  private last = 0;

  constructor(private readonly texts: readonly string[]) {
    this.bases = new Int32Array(texts.length + 1);
    let offset = 0;
    for (let i = 0; i < texts.length; i++) {
      this.bases[i] = offset;
      offset += texts[i]!.length;
    }
    this.bases[texts.length] = offset;
    this.length = offset;
  }

  /** Start of string `i` in the concatenation. */
  base(i: number): number {
    return this.bases[i]!;
  }

  charCodeAt(g: number): number {
    let i = this.last;
    const bases = this.bases;
    if (g < bases[i]! || g >= bases[i + 1]!) {
      // Binary search for the string holding g (skipping empty strings).
      let lo = 0;
      let hi = this.texts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (bases[mid]! <= g) lo = mid;
        else hi = mid - 1;
      }
      i = lo;
      this.last = i;
    }
    return this.texts[i]!.charCodeAt(g - bases[i]!);
  }
}
