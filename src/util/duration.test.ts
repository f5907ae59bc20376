import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';
import { parseBytes } from './bytes.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1.5m', 90_000],
    [15, 15_000],
  ] as const)('%s → %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each(['', 'five minutes', '5 weeks', '-1s', '1e3s'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/invalid duration/);
  });

  it('round-trips through formatDuration', () => {
    for (const ms of [500, 30_000, 300_000, 3_600_000, 86_400_000]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('parseBytes', () => {
  it('parses units case-insensitively', () => {
    expect(parseBytes('512kb')).toBe(512 * 1024);
    expect(parseBytes('4MB')).toBe(4 * 1024 * 1024);
    expect(parseBytes(100)).toBe(100);
  });
  it('rejects junk', () => expect(() => parseBytes('lots')).toThrow(/invalid size/));
});
