import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodedForms } from './encodings.js';

const containsAForm = (text: string, value: string) => encodedForms(value).some((form) => text.includes(form));

describe('encodedForms', () => {
  const secret = 'pa"ss\\wörd 42/+?&=';

  it('covers the value as it is, JSON-escaped once and twice, ASCII-escaped, URL-encoded, hex and base64', () => {
    const forms = encodedForms(secret);
    const bytes = Buffer.from(secret);
    for (const form of [
      secret,
      JSON.stringify(secret).slice(1, -1),
      JSON.stringify(JSON.stringify(secret).slice(1, -1)).slice(1, -1),
      'pa\\"ss\\\\w\\u00f6rd 42/+?&=',
      encodeURIComponent(secret),
      encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      encodeURIComponent(secret).replace(/%20/g, '+'),
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      bytes.toString('base64'),
      bytes.toString('base64url'),
    ]) {
      expect(forms).toContain(form);
    }
  });

  it('finds a value of 8 or more bytes inside any base64 blob that holds it, at any byte offset (a Basic header)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), fc.string({ minLength: 8, maxLength: 40 }), fc.string({ maxLength: 10 }), (before, value, after) => {
        const blob = Buffer.from(before + value + after);
        expect(containsAForm(blob.toString('base64'), value)).toBe(true);
        expect(containsAForm(blob.toString('base64url'), value)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(containsAForm(`Basic ${Buffer.from(`alice:${secret}`).toString('base64')}`, secret)).toBe(true);
  });

  it('leaves out encoded fragments too short to be told from ordinary data', () => {
    for (const form of encodedForms('abcd')) expect(form === 'abcd' || form.length >= 8).toBe(true);
  });

  it('keeps long values to their plain and whole-value forms', () => {
    const long = 'x'.repeat(5000);
    expect(encodedForms(long).length).toBeLessThanOrEqual(4);
  });

  it('survives a lone surrogate (no URL encoding exists)', () => {
    expect(encodedForms('abc\ud800def')).toContain('abc\ud800def');
  });
});
