// `scanAcross` against the reference it replaces: scanning the pieces of a text read in
// another order whole, from the state the previous piece left. Over generated dictionaries
// and pieces (small alphabets, so prefixes of patterns end pieces often; dense rows and
// sparse states both), it must report every occurrence that begins before the piece it ends
// in, and leave the same state after every piece.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Automaton } from './aho-corasick.js';

interface Hit {
  p: number;
  end: number;
}

/** The reference: every piece read whole; also each piece's start offset in the joined text. */
function reference(a: Automaton, pieces: readonly string[]): { hits: Hit[]; states: number[]; starts: number[] } {
  const hits: Hit[] = [];
  const states: number[] = [];
  const starts: number[] = [];
  let base = 0;
  let state = 0;
  for (const piece of pieces) {
    starts.push(base);
    const at = base;
    state = a.scan(piece, 0, piece.length, state, (p, end) => hits.push({ p, end: at + end }));
    states.push(state);
    base += piece.length;
  }
  return { hits, states, starts };
}

function across(a: Automaton, pieces: readonly string[], hint: (j: number) => number): { hits: Hit[]; states: number[] } {
  const hits: Hit[] = [];
  const states: number[] = [];
  let base = 0;
  let state = 0;
  pieces.forEach((piece, j) => {
    const at = base;
    // The piece as a stretch of a longer string (characters around it must not be read).
    const padded = `ab${piece}ba`;
    state = a.scanAcross(padded, 2, 2 + piece.length, state, (p, end) => hits.push({ p, end: at + end }), hint(j));
    states.push(state);
    base += piece.length;
  });
  return { hits, states };
}

const key = (h: Hit): string => `${h.p}@${h.end}`;

/** The piece a joined-text offset falls in (the last piece starting at or before it). */
function pieceAt(starts: readonly number[], offset: number): number {
  let j = 0;
  while (j + 1 < starts.length && starts[j + 1]! <= offset) j++;
  return j;
}

const alphabetArb = fc.constantFrom('ab', 'abc', 'abcd', 'ab0-');
const caseArb = alphabetArb.chain((alphabet) =>
  fc.record({
    patterns: fc.array(fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength: 9 }), { minLength: 1, maxLength: 12 }),
    // A few characters in no pattern too (they send the automaton back to the start).
    pieces: fc.array(fc.string({ unit: fc.constantFrom(...alphabet, ' ', 'z'), maxLength: 14 }), { minLength: 1, maxLength: 8 }),
    denseBudget: fc.constantFrom(1, 16, 64, 1 << 20),
    useHints: fc.boolean(),
  }),
);

describe('Automaton.scanAcross', () => {
  it('reports every occurrence that begins before its piece and leaves the reference state after every piece', () => {
    fc.assert(
      fc.property(caseArb, ({ patterns, pieces, denseBudget, useHints }) => {
        const a = new Automaton(patterns, { denseBudget });
        const ref = reference(a, pieces);
        // The hint a document scan gives: the state a scan of the piece alone ends in, when known.
        const alone = pieces.map((piece) =>
          a.aloneEnd(
            a.scan(piece, 0, piece.length, 0, () => {}),
            piece.length,
          ),
        );
        const got = across(a, pieces, (j) => (useHints ? alone[j]! : -1));
        expect(got.states).toEqual(ref.states);
        const crossing = ref.hits.filter((h) => pieceAt(ref.starts, h.end - a.lengths[h.p]!) !== pieceAt(ref.starts, h.end - 1)).map(key);
        const reported = new Set(got.hits.map(key));
        for (const h of crossing) expect(reported.has(h), `missing ${h}`).toBe(true);
        // Nothing it reports is invented: every hit is one of the reference's.
        const all = new Set(ref.hits.map(key));
        for (const h of got.hits) expect(all.has(key(h)), `extra ${key(h)}`).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('adversarial: a piece that is entirely the middle of a pattern, and pieces of one character', () => {
    const a = new Automaton(['abcdefgh', 'cdx', 'h']);
    const pieces = ['xxab', 'cd', 'e', 'f', 'gh', 'zz'];
    const ref = reference(a, pieces);
    const got = across(a, pieces, () => -1);
    expect(got.states).toEqual(ref.states);
    expect(got.hits.map(key)).toContain('0@10');
  });

  it('aloneEnd refuses a state that stands for more text than was read', () => {
    const a = new Automaton(['abcdef']);
    const s = a.scan('abc', 0, 3, 0, () => {});
    const t = a.scan('d', 0, 1, s, () => {});
    expect(a.aloneEnd(t, 1)).toBe(-1);
    expect(a.aloneEnd(s, 3)).toBe(s);
  });
});
