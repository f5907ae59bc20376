import { describe, expect, it } from 'vitest';
import { lineDiff } from './line-diff.js';

describe('lineDiff', () => {
  it('marks removed, added and kept lines in order', () => {
    expect(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c', 'd'])).toEqual(['  a', '- b', '+ x', '  c', '+ d']);
    expect(lineDiff([], ['new'])).toEqual(['+ new']);
    expect(lineDiff(['old'], [])).toEqual(['- old']);
  });

  it('shows huge inputs whole instead of comparing them', () => {
    const big = Array.from({ length: 2000 }, (_, i) => String(i));
    const out = lineDiff(big, ['x']);
    expect(out).toHaveLength(2001);
    expect(out.at(-1)).toBe('+ x');
  });
});
