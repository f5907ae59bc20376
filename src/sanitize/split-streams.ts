// A credential split across strings that are not neighbours in document order: the `text`
// of consecutive content items (with their `type` members between them), the values of an
// object without its keys, the string literals inside JSON text. These are the other orders
// the strings of a message can be read in; each is scanned for held credentials around the
// boundaries between its pieces only, so the cost stays close to one pass over the text.

import type { Leaf } from './leaves.js';

/** A piece of one leaf, `[from, to)`. */
export interface Piece {
  leaf: number;
  from: number;
  to: number;
}

const whole = (texts: readonly string[], indices: Iterable<number>): Piece[] => {
  const out: Piece[] = [];
  for (const i of indices) out.push({ leaf: i, from: 0, to: texts[i]!.length });
  return out;
};

/** The string literals inside a leaf that holds JSON text (their escaped contents, in order). */
function literals(leaf: number, text: string): Piece[] {
  const out: Piece[] = [];
  let open = text.indexOf('"');
  while (open >= 0) {
    let at = open + 1;
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c === 0x5c) at += 2;
      else if (c === 0x22) break;
      else at++;
    }
    if (at >= text.length) break;
    out.push({ leaf, from: open + 1, to: at });
    open = text.indexOf('"', at + 1);
  }
  return out;
}

/** The orders other than document order: values only; the strings of each shape; JSON literals in a leaf. */
function streams(leaves: readonly Leaf[], texts: readonly string[]): Piece[][] {
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
  for (const i of all) {
    const text = texts[i]!;
    const first = text.indexOf('"');
    if (first < 0 || first === text.lastIndexOf('"')) continue;
    const found = literals(i, text);
    if (found.length > 1) out.push(found);
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

/** Every stretch of pieces to scan for a held credential split across strings read in another order. */
export function splitChunks(leaves: readonly Leaf[], texts: readonly string[], reach: number): Piece[][] {
  const out: Piece[][] = [];
  for (const stream of streams(leaves, texts)) for (const chunk of boundaryChunks(stream, reach)) out.push(chunk);
  return out;
}
