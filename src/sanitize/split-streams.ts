// A credential split across strings that are not neighbours in document order: the `text`
// of consecutive content items (with their `type` members between them), the values of an
// object without its keys, the string literals inside JSON text (all of them, the values
// without their member names, the literals of one shape; in one string or in JSON text cut
// across consecutive strings). These are the other orders
// the strings of a message can be read in; each is scanned for held credentials around the
// boundaries between its pieces only, so the cost stays close to one pass over the text.

import { shapeInterner, type Leaf } from './leaves.js';

/** A piece of one leaf, `[from, to)`. */
export interface Piece {
  leaf: number;
  from: number;
  to: number;
}

/**
 * The stretches to scan, flat (one object per piece costs more than scanning it: a 1 MB
 * result has about 170,000 pieces): piece k is `pieces[3k]` (leaf), `pieces[3k + 1]` (from),
 * `pieces[3k + 2]` (to); chunk c is pieces `[starts[c], starts[c + 1])`.
 */
export interface FlatChunks {
  readonly pieces: Int32Array;
  readonly starts: readonly number[];
}

/** No pieces yet: most messages are small and many write none, so the buffer is allocated on first use. */
const NO_PIECES = new Int32Array(0);

/**
 * Writes the streams of pieces as chunks: a piece longer than `2 × reach` keeps only `reach`
 * characters at each end (its interior was scanned on its own), and the stream breaks between
 * them. Stretches of one piece are dropped: nothing in them crosses a boundary.
 */
class ChunkWriter {
  pieces = NO_PIECES;
  /** Code units written to `pieces` (three per piece). */
  length = 0;
  readonly starts: number[] = [0];
  /** First piece of the chunk being written. */
  #current = 0;

  constructor(private readonly reach: number) {}

  #push(leaf: number, from: number, to: number): void {
    let buffer = this.pieces;
    const at = this.length;
    if (at + 3 > buffer.length) {
      const grown = new Int32Array(Math.max(3 * 64, buffer.length * 2));
      grown.set(buffer);
      this.pieces = buffer = grown;
    }
    buffer[at] = leaf;
    buffer[at + 1] = from;
    buffer[at + 2] = to;
    this.length = at + 3;
  }

  piece(leaf: number, from: number, to: number): void {
    if (to - from <= 2 * this.reach) {
      this.#push(leaf, from, to);
      return;
    }
    this.#push(leaf, from, from + this.reach);
    this.close();
    this.#push(leaf, to - this.reach, to);
  }

  /** Ends a chunk (and, called at the end of a stream, the stream). */
  close(): void {
    const n = this.length / 3;
    if (n - this.#current > 1) {
      this.starts.push(n);
      this.#current = n;
    } else this.length = this.#current * 3;
  }
}

/**
 * String literals of JSON text, flat: literal k has its role (`key[k]`), its shape
 * (`shape[k]`) and its escaped contents as parts `[partFrom[k], partFrom[k + 1])` of `parts`
 * (triples as in `FlatChunks`; a literal cut across leaves has one part per leaf).
 */
class Literals {
  readonly key: boolean[] = [];
  readonly shape: number[] = [];
  readonly partFrom: number[] = [0];
  readonly parts: number[] = [];

  get count(): number {
    return this.key.length;
  }

  write(k: number, out: ChunkWriter): void {
    const parts = this.parts;
    for (let q = this.partFrom[k]!, end = this.partFrom[k + 1]!; q < end; q++) out.piece(parts[3 * q]!, parts[3 * q + 1]!, parts[3 * q + 2]!);
  }
}

/** Where the tokenizer is in JSON text: the containers open around it. */
interface Frame {
  object: boolean;
  shape: number;
  /** In an object: the next literal is a member name. */
  expectKey: boolean;
  /** In an object: the member name the next value sits under. */
  member: string;
  /** The shape of what sits in the frame (its member names, or the values of the current member, or the array's items); -1: not asked yet. */
  keyShape: number;
  valueShape: number;
}

/**
 * The string literals of JSON text spread over the leaves `stream` (read whole, one after the
 * other: one leaf, or the texts of consecutive content items), each with its role (member
 * name or value) and its shape (the member names on the way to it, array positions
 * ignored), as `collectLeaves` gives a structured value. Lenient: text that is not JSON, or
 * several documents one after another (NDJSON), still yields its literals; a bracket that
 * closes nothing is ignored. Linear in the text.
 */
function jsonLiterals(stream: readonly number[], texts: readonly string[], shapeOf: (parent: number, step: string) => number): Literals {
  const out = new Literals();
  const parts = out.parts;
  const stack: Frame[] = [];
  let open = false;
  // A backslash at the end of one leaf escapes the first character of the next.
  let escaped = false;
  // Shapes asked once per frame and member, not once per literal (each asks builds a key string).
  let topShape = -1;
  const valueShape = (frame: Frame): number => {
    if (frame.valueShape < 0) frame.valueShape = shapeOf(frame.shape, frame.object ? `.${frame.member}` : '[]');
    return frame.valueShape;
  };
  const finish = (): void => {
    const frame = stack[stack.length - 1];
    let shape: number;
    let key = false;
    if (frame?.object && frame.expectKey) {
      key = true;
      if (frame.keyShape < 0) frame.keyShape = shapeOf(frame.shape, '{}');
      shape = frame.keyShape;
      let member = '';
      for (let q = out.partFrom[out.count]!; q < parts.length / 3; q++) member += texts[parts[3 * q]!]!.slice(parts[3 * q + 1]!, parts[3 * q + 2]!);
      if (member !== frame.member) {
        frame.member = member;
        frame.valueShape = -1;
      }
      frame.expectKey = false;
    } else if (frame === undefined) shape = topShape < 0 ? (topShape = shapeOf(0, '$')) : topShape;
    else shape = valueShape(frame);
    out.key.push(key);
    out.shape.push(shape);
    out.partFrom.push(parts.length / 3);
  };
  for (const leaf of stream) {
    const text = texts[leaf]!;
    const to = text.length;
    let at = 0;
    while (at < to) {
      if (open) {
        // Inside a literal: run to its closing quote or the end of this leaf.
        // A `"` closes the literal unless an odd run of backslashes stands right before it
        // (escapes pair up from the start of the run); found with indexOf, not per character.
        let i = at;
        if (escaped) {
          escaped = false;
          i++;
        }
        const body = i;
        for (;;) {
          const q = i < to ? text.indexOf('"', i) : -1;
          if (q < 0) {
            // No closing quote in this leaf: an unpaired backslash at its end escapes the next leaf's first character.
            escaped = (backslashesBefore(text, to, body) & 1) === 1;
            i = to;
            break;
          }
          if ((backslashesBefore(text, q, body) & 1) === 0) {
            i = q;
            break;
          }
          i = q + 1;
        }
        const end = Math.min(i, to);
        if (end > at) parts.push(leaf, at, end);
        if (i < to) {
          finish();
          open = false;
          at = i + 1;
        } else at = to;
        continue;
      }
      const c = text.charCodeAt(at);
      if (c === 0x22) open = true;
      else if (c === 0x7b || c === 0x5b) {
        const parent = stack[stack.length - 1];
        const shape = parent === undefined ? (topShape < 0 ? (topShape = shapeOf(0, '$')) : topShape) : valueShape(parent);
        stack.push({ object: c === 0x7b, shape, expectKey: c === 0x7b, member: '', keyShape: -1, valueShape: -1 });
      } else if (c === 0x7d || c === 0x5d) stack.pop();
      else if (c === 0x2c) {
        const frame = stack[stack.length - 1];
        if (frame?.object) frame.expectKey = true;
      } else if (c === 0x3a) {
        const frame = stack[stack.length - 1];
        if (frame?.object) frame.expectKey = false;
      }
      at++;
    }
  }
  // An unterminated literal counts if it has contents; otherwise its (empty) start is dropped.
  if (open && parts.length / 3 > out.partFrom[out.count]!) finish();
  return out;
}

/** How many backslashes stand right before `at` (not before `from`). */
function backslashesBefore(text: string, at: number, from: number): number {
  let k = at;
  while (k > from && text.charCodeAt(k - 1) === 0x5c) k--;
  return at - k;
}

/** The reading orders of the literals of JSON text: all of them, values only, each shape (the names of one object are one). */
function literalOrders(found: Literals, out: ChunkWriter, write: (k: number) => void = (k) => found.write(k, out)): void {
  const count = found.count;
  if (count < 2) return;
  for (let k = 0; k < count; k++) write(k);
  out.close();
  // Names alone are read per shape (the names of one object, of records of one shape), as in a structured value.
  let values = 0;
  for (let k = 0; k < count; k++) if (!found.key[k]) values++;
  if (values > 1 && values < count) {
    for (let k = 0; k < count; k++) if (!found.key[k]) write(k);
    out.close();
  }
  const byShape = new Map<number, number[]>();
  for (let k = 0; k < count; k++) {
    const shape = found.shape[k]!;
    let list = byShape.get(shape);
    if (!list) byShape.set(shape, (list = []));
    list.push(k);
  }
  if (byShape.size > 1) {
    for (const list of byShape.values()) {
      if (list.length < 2) continue;
      for (const k of list) write(k);
      out.close();
    }
  }
}

/**
 * Texts read from the literals of one text with a level of JSON escaping removed: segments
 * `first`, `first + 1`, … hold its literals one by one, in the order `jsonLiterals` finds them.
 */
export interface DerivedLiterals {
  readonly first: number;
  readonly count: number;
}

const hasLiteral = (text: string): boolean => {
  const first = text.indexOf('"');
  return first >= 0 && first !== text.lastIndexOf('"');
};

/**
 * The orders other than document order: values only; the strings of each shape (the names of one object are one);
 * and the same orders over the literals of JSON text, in one leaf and across the leaves of
 * one shape (JSON text cut across consecutive content items).
 */
function streams(
  leaves: readonly Leaf[],
  texts: readonly string[],
  extra: readonly number[],
  derivedOf: ReadonlyMap<number, DerivedLiterals> | undefined,
  out: ChunkWriter,
): void {
  const n = leaves.length;
  let values = 0;
  for (let i = 0; i < n; i++) if (!leaves[i]!.key) values++;
  if (values > 1 && values < n) {
    for (let i = 0; i < n; i++) if (!leaves[i]!.key) out.piece(i, 0, texts[i]!.length);
    out.close();
  }
  const byShape = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const shape = leaves[i]!.shape;
    let list = byShape.get(shape);
    if (!list) byShape.set(shape, (list = []));
    list.push(i);
  }
  for (const list of byShape.values()) {
    if (list.length < 2 || list.length >= n) continue;
    for (const i of list) out.piece(i, 0, texts[i]!.length);
    out.close();
  }
  const shapeOf = shapeInterner();
  // Derived texts (a base64 member decoded) hold JSON text as often as the leaves do.
  const one = [0];
  for (let j = 0; j < n + extra.length; j++) {
    const i = j < n ? j : extra[j - n]!;
    if (!hasLiteral(texts[i]!)) continue;
    one[0] = i;
    const found = jsonLiterals(one, texts, shapeOf);
    literalOrders(found, out);
    // The same orders over the literals read one level down (JSON text inside JSON text).
    const derived = derivedOf?.get(i);
    if (derived === undefined) continue;
    if (derived.count !== found.count) throw new Error('unescaped literals do not match the literals of their text');
    literalOrders(found, out, (k) => {
      const segment = derived.first + k;
      const length = texts[segment]!.length;
      if (length > 0) out.piece(segment, 0, length);
    });
  }
  // JSON text cut across strings of one shape (the texts of consecutive content items).
  for (const list of byShape.values()) {
    if (list.length < 2) continue;
    // A literal or a member can only cross from one string to the next if two of them hold quotes.
    let quoted = 0;
    for (const i of list) if (texts[i]!.indexOf('"') >= 0 && ++quoted === 2) break;
    if (quoted < 2) continue;
    literalOrders(jsonLiterals(list, texts, shapeOf), out);
  }
}

/** Every stretch of pieces to scan for a held credential split across strings read in another order, flat. */
export function splitChunksFlat(
  leaves: readonly Leaf[],
  texts: readonly string[],
  reach: number,
  extra: readonly number[] = [],
  derivedOf?: ReadonlyMap<number, DerivedLiterals>,
): FlatChunks {
  const out = new ChunkWriter(reach);
  streams(leaves, texts, extra, derivedOf, out);
  return { pieces: out.pieces.subarray(0, out.length), starts: out.starts };
}

/** Every stretch of pieces to scan for a held credential split across strings read in another order. */
export function splitChunks(
  leaves: readonly Leaf[],
  texts: readonly string[],
  reach: number,
  extra: readonly number[] = [],
  derivedOf?: ReadonlyMap<number, DerivedLiterals>,
): Piece[][] {
  const { pieces, starts } = splitChunksFlat(leaves, texts, reach, extra, derivedOf);
  const out: Piece[][] = [];
  for (let c = 0; c + 1 < starts.length; c++) {
    const chunk: Piece[] = [];
    for (let k = starts[c]!; k < starts[c + 1]!; k++) chunk.push({ leaf: pieces[3 * k]!, from: pieces[3 * k + 1]!, to: pieces[3 * k + 2]! });
    out.push(chunk);
  }
  return out;
}
