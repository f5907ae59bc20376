import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AhoCorasickMatcher, buildMatcher, EMPTY_MATCHER, mergeMatches, type Match } from './matcher.js';

/** The obvious quadratic reference: every occurrence of every pattern, merged. */
function naive(text: string, patterns: string[]): Match[] {
  const found: Match[] = [];
  for (const p of patterns) {
    if (!p) continue;
    for (let at = text.indexOf(p); at >= 0; at = text.indexOf(p, at + 1)) found.push({ start: at, end: at + p.length, type: 't' });
  }
  return mergeMatches(found).map((m) => ({ ...m, type: 't' }));
}

describe('AhoCorasickMatcher', () => {
  it('finds every occurrence of every pattern, overlaps merged', () => {
    const m = new AhoCorasickMatcher([
      { text: 'he', type: 'a' },
      { text: 'she', type: 'b' },
      { text: 'hers', type: 'a' },
      { text: 'his', type: 'a' },
    ]);
    expect(m.size).toBe(4);
    expect(m.find('ushers')).toEqual([{ start: 1, end: 6, type: 'b' }]);
    expect(m.find('his and hers, she')).toEqual([
      { start: 0, end: 3, type: 'a' },
      { start: 8, end: 12, type: 'a' },
      { start: 14, end: 17, type: 'b' },
    ]);
    expect(m.find('nothing to see')).toEqual([]);
  });

  it('matches non-ASCII code units and a pattern that is a suffix of another', () => {
    const m = new AhoCorasickMatcher([
      { text: 'pässwörd', type: 'v' },
      { text: 'wörd', type: 'v' },
    ]);
    expect(m.find('x pässwörd y wörd')).toEqual([
      { start: 2, end: 10, type: 'v' },
      { start: 13, end: 17, type: 'v' },
    ]);
  });

  it('is empty without patterns', () => {
    expect(buildMatcher([])).toBe(EMPTY_MATCHER);
    expect(EMPTY_MATCHER.find('anything')).toEqual([]);
  });

  it('agrees with a naive search on random texts and patterns', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', 'ä', '"', '\\');
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: alphabet, minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        fc.string({ unit: alphabet, maxLength: 200 }),
        (patterns, text) => {
          const m = new AhoCorasickMatcher(patterns.map((p) => ({ text: p, type: 't' })));
          expect(m.find(text).map((x) => ({ ...x, type: 't' }))).toEqual(naive(text, patterns));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('scans a megabyte in linear time whatever the patterns (a long secret against its own prefix repeated)', () => {
    const secret = `${'a'.repeat(4000)}b`;
    const m = new AhoCorasickMatcher([{ text: secret, type: 'v' }]);
    const text = 'a'.repeat(1_000_000);
    const started = performance.now();
    expect(m.find(text)).toEqual([]);
    // Generous: a quadratic search would take minutes here.
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
