import { describe, expect, it } from 'vitest';
import { JoinedText, isSpecialCodeUnit, makeView, normalizeValue, toOriginal } from './text-view.js';

const REQUIRED_INVISIBLE = [
  0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x00ad, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067,
  0x2068, 0x2069,
];

describe('makeView', () => {
  it('returns the string itself, without a map, when nothing needs removing', () => {
    const s = 'plain ASCII and naïve café 😀';
    const v = makeView(s);
    expect(v.text).toBe(s);
    expect(v.map).toBeNull();
    expect(makeView(s, 5)).toEqual({ text: 'plain', map: null });
  });

  it('removes every required invisible and format character, and maps offsets back', () => {
    for (const c of REQUIRED_INVISIBLE) {
      const s = `ab${String.fromCharCode(c)}cd`;
      const v = makeView(s);
      expect(v.text, `U+${c.toString(16)}`).toBe('abcd');
      expect(isSpecialCodeUnit(c)).toBe(true);
      // "cd" starts at original offset 3.
      expect(toOriginal(v, 2)).toBe(3);
      expect(toOriginal(v, 4)).toBe(5);
    }
  });

  it('removes combining marks and variation selectors, folds fullwidth forms and tag characters', () => {
    expect(makeView('se\u0301cret\u20dd\ufe0f').text).toBe('secret');
    expect(makeView('\uff53\uff45\uff43\uff52\uff45\uff54').text).toBe('secret');
    // "key" spelled in invisible tag characters (U+E006B U+E0065 U+E0079), wrapped in begin/cancel tags.
    const tags = String.fromCodePoint(0xe0001, 0xe006b, 0xe0065, 0xe0079, 0xe007f);
    const v = makeView(`a${tags}b`);
    expect(v.text).toBe('akeyb');
    expect(toOriginal(v, 1)).toBe(3); // after U+E0001 (two code units) and "a"
    expect(toOriginal(v, 4)).toBe(1 + tags.length);
    // A variation selector from the supplement is dropped; other plane-14 code points are kept.
    expect(makeView(`x${String.fromCodePoint(0xe0100)}y`).text).toBe('xy');
  });

  it('keeps a lone plane-14 high surrogate and caps at the given end', () => {
    expect(makeView('a\udb40b').text).toBe('a\udb40b');
    expect(makeView('ab\u200bcdef', 4).text).toBe('abc');
  });

  it('normalizes held values the same way', () => {
    expect(normalizeValue('p\u200ba\u00ads\ufeffs')).toBe('pass');
  });

  it('builds long views in chunks (no argument-list overflow)', () => {
    const s = 'x\u200b'.repeat(200_000);
    const v = makeView(s);
    expect(v.text).toBe('x'.repeat(200_000));
    expect(toOriginal(v, 199_999)).toBe(399_998);
  });
});

describe('JoinedText', () => {
  it('reads several strings as one, empty ones included', () => {
    const j = new JoinedText(['ab', '', 'c', 'def']);
    expect(j.length).toBe(6);
    let s = '';
    for (let i = 0; i < j.length; i++) s += String.fromCharCode(j.charCodeAt(i));
    expect(s).toBe('abcdef');
    expect(j.charCodeAt(5)).toBe(0x66);
    expect(j.charCodeAt(0)).toBe(0x61);
    expect([j.base(0), j.base(1), j.base(2), j.base(3)]).toEqual([0, 2, 2, 3]);
  });
});
