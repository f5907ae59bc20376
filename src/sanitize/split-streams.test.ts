// The reading orders are written flat (split-streams.ts: one Int32Array of pieces, literal
// bodies found with indexOf, shapes cached per frame). The reference below is the
// construction they replaced, one object per piece and per literal: both must give the same
// chunks, piece for piece, for any message, scan reach and derived texts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectLeaves, shapeInterner, type Leaf } from './leaves.js';
import { unescapedLiterals } from './json-unescape.js';
import { splitChunks, splitChunksFlat } from './split-streams.js';

// ---- reference ----

/** A piece of one leaf, `[from, to)`. */
interface Piece {
  leaf: number;
  from: number;
  to: number;
}

const whole = (texts: readonly string[], indices: Iterable<number>): Piece[] => {
  const out: Piece[] = [];
  for (const i of indices) out.push({ leaf: i, from: 0, to: texts[i]!.length });
  return out;
};

/** A string literal of JSON text: its escaped contents (parts in one leaf or more), its role and where it sits. */
interface Literal {
  parts: Piece[];
  key: boolean;
  shape: number;
}

/** Where the tokenizer is in JSON text: the containers open around it. */
interface Frame {
  object: boolean;
  shape: number;
  /** In an object: the next literal is a member name. */
  expectKey: boolean;
  /** In an object: the member name the next value sits under. */
  member: string;
}

/**
 * The string literals of JSON text spread over `stream` (whole leaves read one after the
 * other: one leaf, or the texts of consecutive content items), each with its role (member
 * name or value) and its shape (the member names on the way to it, array positions
 * ignored), as `collectLeaves` gives a structured value. Lenient: text that is not JSON, or
 * several documents one after another (NDJSON), still yields its literals; a bracket that
 * closes nothing is ignored. Linear in the text.
 */
function jsonLiterals(stream: readonly Piece[], texts: readonly string[], shapeOf: (parent: number, step: string) => number): Literal[] {
  const out: Literal[] = [];
  const stack: Frame[] = [];
  let open: Literal | null = null;
  // A backslash at the end of one leaf escapes the first character of the next.
  let escaped = false;
  const finish = (lit: Literal): void => {
    const frame = stack[stack.length - 1];
    if (frame?.object && frame.expectKey) {
      lit.key = true;
      lit.shape = shapeOf(frame.shape, '{}');
      frame.member = lit.parts.map((p) => texts[p.leaf]!.slice(p.from, p.to)).join('');
      frame.expectKey = false;
    } else if (frame === undefined) lit.shape = shapeOf(0, '$');
    else lit.shape = shapeOf(frame.shape, frame.object ? `.${frame.member}` : '[]');
    out.push(lit);
  };
  for (const piece of stream) {
    const text = texts[piece.leaf]!;
    let at = piece.from;
    while (at < piece.to) {
      if (open !== null) {
        // Inside a literal: run to its closing quote or the end of this leaf.
        let i = at;
        if (escaped) {
          escaped = false;
          i++;
        }
        while (i < piece.to) {
          const c = text.charCodeAt(i);
          if (c === 0x5c) {
            if (i + 1 >= piece.to) {
              escaped = true;
              i++;
              break;
            }
            i += 2;
          } else if (c === 0x22) break;
          else i++;
        }
        const end = Math.min(i, piece.to);
        if (end > at) open.parts.push({ leaf: piece.leaf, from: at, to: end });
        if (i < piece.to) {
          finish(open);
          open = null;
          at = i + 1;
        } else at = piece.to;
        continue;
      }
      const c = text.charCodeAt(at);
      if (c === 0x22) open = { parts: [], key: false, shape: 0 };
      else if (c === 0x7b || c === 0x5b) {
        const parent = stack[stack.length - 1];
        const shape = parent === undefined ? shapeOf(0, '$') : parent.object ? shapeOf(parent.shape, `.${parent.member}`) : shapeOf(parent.shape, '[]');
        stack.push({ object: c === 0x7b, shape, expectKey: c === 0x7b, member: '' });
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
  if (open !== null && open.parts.length > 0) finish(open);
  return out;
}

/** The reading orders of the literals of JSON text: all of them, values only, each shape (the names of one object are one). */
function literalOrders(found: readonly Literal[], out: Piece[][]): void {
  if (found.length < 2) return;
  const join = (list: readonly Literal[]): Piece[] => list.flatMap((l) => l.parts);
  out.push(join(found));
  // Names alone are read per shape (the names of one object, of records of one shape), as in a structured value.
  const values = found.filter((l) => !l.key);
  if (values.length > 1 && values.length < found.length) out.push(join(values));
  const byShape = new Map<number, Literal[]>();
  for (const l of found) {
    let list = byShape.get(l.shape);
    if (!list) byShape.set(l.shape, (list = []));
    list.push(l);
  }
  if (byShape.size > 1) for (const list of byShape.values()) if (list.length > 1) out.push(join(list));
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
function streams(leaves: readonly Leaf[], texts: readonly string[], extra: readonly number[]): Piece[][] {
  const out: Piece[][] = [];
  const all = leaves.map((_, i) => i);
  const values = all.filter((i) => !leaves[i]!.key);
  if (values.length > 1 && values.length < all.length) out.push(whole(texts, values));
  const byShape = new Map<number, number[]>();
  for (const i of all) {
    const shape = leaves[i]!.shape;
    let list = byShape.get(shape);
    if (!list) byShape.set(shape, (list = []));
    list.push(i);
  }
  for (const list of byShape.values()) if (list.length > 1 && list.length < all.length) out.push(whole(texts, list));
  const shapeOf = shapeInterner();
  // Derived texts (a base64 member decoded) hold JSON text as often as the leaves do.
  for (const i of [...all, ...extra]) {
    if (!hasLiteral(texts[i]!)) continue;
    literalOrders(jsonLiterals(whole(texts, [i]), texts, shapeOf), out);
  }
  // JSON text cut across strings of one shape (the texts of consecutive content items).
  for (const list of byShape.values()) {
    if (list.length < 2) continue;
    // A literal or a member can only cross from one string to the next if two of them hold quotes.
    let quoted = 0;
    for (const i of list) if (texts[i]!.indexOf('"') >= 0 && ++quoted === 2) break;
    if (quoted < 2) continue;
    literalOrders(jsonLiterals(whole(texts, list), texts, shapeOf), out);
  }
  return out;
}

/**
 * Cuts a stream into the stretches an occurrence across a boundary can lie in: a piece longer
 * than `2 × reach` keeps only `reach` characters at each end (its interior was scanned on its
 * own), and the stream breaks between them. Stretches of one piece are dropped: nothing in
 * them crosses a boundary.
 */
function boundaryChunks(stream: readonly Piece[], reach: number): Piece[][] {
  const chunks: Piece[][] = [];
  let current: Piece[] = [];
  const close = () => {
    if (current.length > 1) chunks.push(current);
    current = [];
  };
  for (const piece of stream) {
    if (piece.to - piece.from <= 2 * reach) {
      current.push(piece);
      continue;
    }
    current.push({ leaf: piece.leaf, from: piece.from, to: piece.from + reach });
    close();
    current.push({ leaf: piece.leaf, from: piece.to - reach, to: piece.to });
  }
  close();
  return chunks;
}

function referenceChunks(leaves: readonly Leaf[], texts: readonly string[], reach: number, extra: readonly number[] = []): Piece[][] {
  const out: Piece[][] = [];
  for (const stream of streams(leaves, texts, extra)) for (const chunk of boundaryChunks(stream, reach)) out.push(chunk);
  return out;
}

// Quotes, backslashes and brackets dense enough that literals open, close, escape and cross strings.
const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '"', '"', '\\', '\\', '{', '}', '[', ']', ',', ':'), maxLength: 40 });
const message = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'text', 'type', '"q'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('reading orders, flat', () => {
  it('give the same chunks as one object per piece and per literal', () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 1, max: 24 }), fc.array(text, { maxLength: 2 }), (value, reach, derived) => {
        const leaves: Leaf[] = typeof value === 'string' ? [{ text: value, key: false, member: undefined, shape: 0 }] : collectLeaves(value);
        // Derived texts (decoded or unescaped) follow the leaves, read as JSON text on their own.
        const texts = [...leaves.map((l) => l.text), ...derived];
        const extra = derived.map((_, i) => leaves.length + i);
        const flat = splitChunks(leaves, texts, reach, extra);
        expect(flat).toEqual(referenceChunks(leaves, texts, reach, extra));
        const { pieces, starts } = splitChunksFlat(leaves, texts, reach, extra);
        expect(pieces.length).toBe(3 * starts[starts.length - 1]!);
      }),
      { numRuns: 5000 },
    );
  });

  it('read the literals of JSON text one level down in the same orders as the raw literals', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const raw = `${a}"\\"${b}`;
        const literals = unescapedLiterals(raw);
        const leaves: Leaf[] = [{ text: raw, key: false, member: undefined, shape: 0 }];
        const texts = [raw, ...literals.map((u) => u.text)];
        const extra = literals.map((_, i) => 1 + i);
        const derivedOf = new Map(literals.length > 0 ? [[0, { first: 1, count: literals.length }]] : []);
        // The literals the orders find and the unescaped ones line up (a mismatch throws).
        const withDerived = splitChunks(leaves, texts, 1000, extra, derivedOf);
        const without = splitChunks(leaves, texts, 1000, extra);
        // Every raw order has its twin over the unescaped texts, piece for piece (empty literals leave no piece).
        const raws = without.filter((c) => c.every((p) => p.leaf === 0));
        const downs = withDerived.filter((c) => c.every((p) => p.leaf > 0) && !without.some((w) => JSON.stringify(w) === JSON.stringify(c)));
        expect(downs.length).toBeLessThanOrEqual(raws.length);
        for (const chunk of downs) for (const p of chunk) expect(p).toEqual({ leaf: p.leaf, from: 0, to: texts[p.leaf]!.length });
      }),
      { numRuns: 3000 },
    );
  });

  it('read a long JSON document the same way', () => {
    const records = Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, name: `n\\"${i}`, tags: ['a', `b${i % 3}`], nested: { k: 'v"w' } }));
    const json = JSON.stringify({ records, total: records.length });
    const value = { content: [{ type: 'text', text: json }], structuredContent: JSON.parse(json) as unknown };
    const leaves = collectLeaves(value);
    const texts = leaves.map((l) => l.text);
    const chunks = splitChunks(leaves, texts, 512);
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks).toEqual(referenceChunks(leaves, texts, 512));
  });
});
