import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Automaton } from './aho-corasick.js';

/** Every (pattern, end) occurrence by brute force, sorted like the automaton reports them. */
function naive(patterns: readonly string[], text: string, fold = false): string[] {
  const t = fold ? text.toLowerCase() : text;
  const out: string[] = [];
  for (let end = 1; end <= t.length; end++) {
    patterns.forEach((p, i) => {
      const q = fold ? p.toLowerCase() : p;
      if (end >= q.length && t.slice(end - q.length, end) === q) out.push(`${i}@${end}`);
    });
  }
  return out.sort();
}

function found(a: Automaton, text: string, state = 0): string[] {
  const out: string[] = [];
  a.scan(text, 0, text.length, state, (p, end) => out.push(`${p}@${end}`));
  return out.sort();
}

describe('Automaton', () => {
  it('reports every occurrence, overlapping ones and duplicate patterns included', () => {
    const patterns = ['he', 'she', 'his', 'hers', 'he'];
    const a = new Automaton(patterns);
    expect(found(a, 'ushers ahishe')).toEqual(naive(patterns, 'ushers ahishe'));
    expect(found(a, 'ushers')).toEqual(['0@4', '1@4', '3@6', '4@4'].sort());
  });

  it('matches code units, not graphemes: a value followed by a combining mark is found', () => {
    const a = new Automaton(['secret']);
    expect(found(a, 'xx secret\u0301 yy')).toEqual(['0@9']);
    expect(found(a, '😀secret')).toEqual(['0@8']);
  });

  it('equals brute force on random dictionaries and texts, with dense rows and without', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '😀'), minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 }),
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd', 'é', '😀'), maxLength: 60 }),
        fc.constantFrom(1, 8, 64, 1 << 22),
        (patterns, text, budget) => {
          expect(found(new Automaton(patterns, { denseBudget: budget }), text)).toEqual(naive(patterns, text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('folds ASCII case when asked', () => {
    const patterns = ['AKIA', 'ghp_', 'Secret'];
    const a = new Automaton(patterns, { foldAsciiCase: true });
    const text = 'akia GHP_ sEcReT Akia';
    expect(found(a, text)).toEqual(naive(patterns, text, true));
    expect(found(new Automaton(patterns), text)).toEqual([]);
  });

  it('continues across strings when given the returned state', () => {
    const a = new Automaton(['abcdef']);
    const hits: number[] = [];
    const s1 = a.scan('xxabc', 0, 5, 0, () => hits.push(-1));
    a.scan('defyy', 0, 5, s1, (_p, end) => hits.push(end));
    expect(hits).toEqual([3]);
  });

  it('reports digit runs and stops on listed code units in the fused scan', () => {
    const a = new Automaton(['42x'], { digitClasses: true });
    const runs: number[] = [];
    const hits: number[] = [];
    const state = a.scanFused(
      'a 123 b 42x 7',
      0,
      13,
      0,
      (_p, e) => hits.push(e),
      (i) => runs.push(i),
      null,
    );
    expect(state).toBeGreaterThanOrEqual(0);
    expect(runs).toEqual([2, 8, 12]);
    expect(hits).toEqual([11]);
    const stop = new Uint8Array(65536);
    stop[0x200b] = 1;
    expect(
      a.scanFused(
        'ab\u200bcd',
        0,
        5,
        0,
        () => {},
        () => {},
        stop,
      ),
    ).toBe(-1 - 2);
    expect(() =>
      new Automaton(['x']).scanFused(
        'x',
        0,
        1,
        0,
        () => {},
        () => {},
        null,
      ),
    ).toThrow(/digitClasses/);
  });

  it('rejects empty patterns', () => {
    expect(() => new Automaton(['a', ''])).toThrow(RangeError);
  });

  it('builds a large dictionary (30,000 random patterns) and finds each', () => {
    const patterns: string[] = [];
    let seed = 7;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    for (let i = 0; i < 30_000; i++) {
      let p = '';
      for (let j = 0; j < 32; j++) p += alphabet[Math.floor(rand() * 64)];
      patterns.push(p);
    }
    const a = new Automaton(patterns);
    expect(a.stateCount).toBeGreaterThan(500_000);
    const text = `noise ${patterns[12345]} more ${patterns[29999]}`;
    expect(found(a, text)).toEqual([`12345@${6 + 32}`, `29999@${text.length}`].sort());
  });
});
