// The precompiled numbering plans must give libphonenumber-js's own verdicts: a differential
// test against libphonenumber-js (the validator) and against the detector as it was before
// (the spans found), on real numbers of every region, their near misses and random digits.
import fc from 'fast-check';
import { type CountryCode, getCountries, getCountryCallingCode, getExampleNumber, Metadata } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile.json';
import { describe, expect, it } from 'vitest';
import { REFERENCE_PHONE_VALIDATIONS, referencePhoneAt, referencePhoneStart, referenceValidPhone } from '../../../test/helpers/phone-reference.ts';
import { isDigit } from './chars.js';
import { phoneAt, phoneStart, resetPhoneValidationCache } from './pii-numbers.js';
import { MAX_DIGITS, phoneValidity } from './phone-plan.js';

const REGIONS = getCountries();
/** Default regions the sanitizer is likely configured with, and some with unusual plans. */
const DEFAULT_REGIONS: CountryCode[] = [
  'US',
  'GB',
  'DE',
  'FR',
  'IT',
  'ES',
  'NL',
  'IN',
  'BR',
  'AR',
  'MX',
  'RU',
  'CN',
  'JP',
  'AU',
  'CA',
  'CH',
  'AT',
  'PL',
  'SE',
  'NG',
  'ZA',
  'SG',
  'KR',
  'IL',
  'CO',
  'UZ',
  'BY',
  'KZ',
  'SM',
];

/** Mobile example numbers of every region (libphonenumber-js's examples), in four notations. */
function exampleNotations(): string[] {
  const out: string[] = [];
  for (const r of REGIONS) {
    const e = getExampleNumber(r, examples);
    if (e === undefined) continue;
    out.push(e.number, e.nationalNumber, e.formatNational(), e.formatInternational());
  }
  return out;
}
const EXAMPLES = exampleNotations();

const digitString = (min: number, max: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** A real number, changed a little: a digit replaced, dropped or added, a prefix added or removed. */
const nearMiss = fc
  .tuple(
    fc.constantFrom(...EXAMPLES),
    fc.nat(),
    fc.integer({ min: 0, max: 9 }),
    fc.constantFrom('keep', 'replace', 'drop', 'add', 'prefix', 'unprefix', 'plus', 'unplus'),
    fc.constantFrom(...REGIONS),
  )
  .map(([number, at, digit, change, other]) => {
    const plus = number.startsWith('+');
    const d = number.replace(/\D/g, '');
    const i = at % Math.max(1, d.length);
    switch (change) {
      case 'replace':
        return (plus ? '+' : '') + d.slice(0, i) + digit + d.slice(i + 1);
      case 'drop':
        return (plus ? '+' : '') + d.slice(0, i) + d.slice(i + 1);
      case 'add':
        return (plus ? '+' : '') + d.slice(0, i) + digit + d.slice(i);
      case 'prefix':
        return [`0${d}`, `00${d}`, `011${d}`, `1${d}`, `${getCountryCallingCode(other)}${d}`, `8${d}`][digit % 6]!;
      case 'unprefix':
        return d.slice(1 + (digit % 3));
      case 'plus':
        return `+${getCountryCallingCode(other)}${d}`;
      case 'unplus':
        return d;
      default:
        return number;
    }
  });

/** Digits in groups with the separators the detector accepts, maybe a `+`, maybe `(…)`. */
const formatted = fc
  .tuple(fc.boolean(), fc.boolean(), fc.array(digitString(1, 5), { minLength: 1, maxLength: 6 }), fc.constantFrom(' ', '-', '.', '/', '\u00a0', ') ', ' ('))
  .map(([plus, paren, groups, sep]) => {
    const [first, ...rest] = groups;
    return `${plus ? '+' : ''}${paren ? `(${first})` : first}${rest.length > 0 ? (paren ? ' ' : sep) : ''}${rest.join(sep)}`;
  });

const candidate = fc.oneof(
  { arbitrary: fc.constantFrom(...EXAMPLES), weight: 2 },
  { arbitrary: nearMiss, weight: 4 },
  { arbitrary: digitString(7, 15), weight: 2 },
  { arbitrary: digitString(7, 15).map((d) => `+${d}`), weight: 2 },
  { arbitrary: formatted, weight: 2 },
);
const region = fc.oneof({ arbitrary: fc.constantFrom(...DEFAULT_REGIONS), weight: 3 }, { arbitrary: fc.constantFrom(...REGIONS), weight: 1 });

describe('precompiled numbering plans agree with libphonenumber-js', () => {
  it('every mobile example of every region, in four notations, under 30 default regions', () => {
    let decided = 0;
    let valid = 0;
    for (const r of DEFAULT_REGIONS) {
      for (const number of EXAMPLES) {
        const fast = phoneValidity(number, r);
        const reference = referenceValidPhone(number, r);
        if (fast === undefined) continue;
        decided++;
        if (reference) valid++;
        expect(fast, `${number} in ${r}`).toBe(reference);
      }
    }
    // The fast path must decide almost everything, or the detector is not faster.
    expect(decided).toBeGreaterThan(0.97 * DEFAULT_REGIONS.length * EXAMPLES.length);
    expect(valid).toBeGreaterThan(1000);
    expect(valid).toBeLessThan(decided);
  });

  it('random numbers, near misses and formatted digit groups (property)', () => {
    let decided = 0;
    let runs = 0;
    fc.assert(
      fc.property(candidate, region, (c, r) => {
        runs++;
        const fast = phoneValidity(c, r);
        if (fast !== undefined) {
          decided++;
          expect(fast).toBe(referenceValidPhone(c, r));
        }
      }),
      { numRuns: 20_000, seed: 0x5eed },
    );
    expect(decided).toBeGreaterThan(0.95 * runs);
  });

  it("numbers written with a region's national prefix, under that region (property)", () => {
    // National-prefix removal has the most branches (kept when the number only fits the plan
    // with it, or when the rest has an impossible length): the candidate and region go together.
    const metadata = new Metadata() as unknown as { selectNumberingPlan(r: string): void; numberingPlan: { nationalPrefix(): string | undefined } };
    const nationalPrefix = (r: CountryCode): string => {
      metadata.selectNumberingPlan(r);
      return metadata.numberingPlan.nationalPrefix() ?? '0';
    };
    const nationalExample = (r: CountryCode): string => getExampleNumber(r, examples)?.nationalNumber ?? '';
    let decided = 0;
    fc.assert(
      fc.property(fc.constantFrom(...REGIONS), fc.oneof(digitString(3, 14), fc.nat({ max: 14 })), (r, tail) => {
        const c = nationalPrefix(r) + (typeof tail === 'number' ? nationalExample(r).slice(0, Math.max(3, tail)) : tail);
        const fast = phoneValidity(c, r);
        if (fast !== undefined) {
          decided++;
          expect(fast, `${c} in ${r}`).toBe(referenceValidPhone(c, r));
        }
      }),
      { numRuns: 20_000, seed: 0x0a71 },
    );
    expect(decided).toBeGreaterThan(19_000);
  });

  it('defers what it does not model: non-geographic codes, other characters, unsupported regions, long digit strings', () => {
    expect(phoneValidity('+800 1234 5678', 'US')).toBeUndefined();
    expect(phoneValidity('+882 3456 7890', 'DE')).toBeUndefined();
    expect(phoneValidity('+1 415 555 2671 ext. 3', 'US')).toBeUndefined();
    expect(phoneValidity('415 555 2671', 'XX' as CountryCode)).toBeUndefined();
    expect(phoneValidity(`+${'4'.repeat(MAX_DIGITS + 1)}`, 'US')).toBeUndefined();
    // …and decides the common shapes.
    expect(phoneValidity('+1 415 555 2671', 'US')).toBe(true);
    expect(phoneValidity('(415) 555-2671', 'US')).toBe(true);
    expect(phoneValidity('030 12345678', 'DE')).toBe(referenceValidPhone('030 12345678', 'DE'));
    expect(phoneValidity('+44 20 7946 0018', 'US')).toBe(true);
    expect(phoneValidity('+1 011 555 2671', 'US')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------
// The detector: the same spans as the reference on texts mixing numbers, phone words, dates,
// versions, ids and prose.

const fragment = fc.oneof(
  { arbitrary: candidate, weight: 6 },
  {
    arbitrary: fc.constantFrom(
      'tel: ',
      'Phone ',
      'call me at ',
      'fax ',
      'mob. ',
      'contact: ',
      'v',
      'version ',
      'id ',
      'order #',
      '(',
      ')',
      '+',
      '+(',
      ' / ',
      '-',
      '.',
      ', ',
      '\n',
      'x',
      '_',
    ),
    weight: 4,
  },
  { arbitrary: fc.constantFrom('2024-05-17', '10.0.0.1', '1.2.3.4', '17:45', '1715950000123', 'build 20240517.3', '24/7', 'ext. 12', '$1,234.56'), weight: 2 },
  { arbitrary: fc.string({ maxLength: 8 }), weight: 1 },
  { arbitrary: digitString(1, 16), weight: 2 },
);
const text = fc.tuple(fc.array(fragment, { minLength: 1, maxLength: 8 }), fc.constantFrom('', ' ', '  ')).map(([parts, glue]) => parts.join(glue));

/** [start, end] of the phone number found at each digit-run start of `t`, per implementation. */
function spans(t: string, r: CountryCode, impl: 'new' | 'reference'): string[] {
  const out: string[] = [];
  const budget = { left: REFERENCE_PHONE_VALIDATIONS };
  for (let i = 0; i < t.length; i++) {
    if (!isDigit(t.charCodeAt(i)) || (i > 0 && isDigit(t.charCodeAt(i - 1)))) continue;
    const end = impl === 'new' ? phoneAt(t, i, 0, t.length, r, budget) : referencePhoneAt(t, i, 0, t.length, r, budget);
    if (end >= 0) out.push(`${impl === 'new' ? phoneStart(t, i) : referencePhoneStart(t, i)}-${end}`);
  }
  return out;
}

describe('the phone detector finds exactly the spans the reference detector finds', () => {
  it('on generated texts (property)', () => {
    let found = 0;
    fc.assert(
      fc.property(text, region, (t, r) => {
        resetPhoneValidationCache();
        const fresh = spans(t, r, 'new');
        const cached = spans(t, r, 'new');
        const reference = spans(t, r, 'reference');
        found += reference.length;
        expect(fresh).toEqual(reference);
        expect(cached).toEqual(reference);
      }),
      { numRuns: 5_000, seed: 0xca11 },
    );
    // The generator must produce numbers that are found, or the comparison proves little.
    expect(found).toBeGreaterThan(500);
  });

  it('on every example number embedded in prose, under each default region', () => {
    for (const r of DEFAULT_REGIONS) {
      const t = EXAMPLES.map((n, i) => `${i % 3 === 0 ? 'tel ' : 'reach us on '}${n}, thanks`).join('\n');
      resetPhoneValidationCache();
      const reference = spans(t, r, 'reference');
      expect(spans(t, r, 'new'), r).toEqual(reference);
      expect(reference.length, r).toBeGreaterThan(EXAMPLES.length / 4);
    }
  });
});
