// Number-shaped personal data, checked at the start of each digit run: payment cards, US
// Social Security numbers, IBANs and phone numbers. Each checker looks at a bounded stretch
// of text from the run start, so the scan is linear.

import cardValidator from 'card-validator';
import { getCountrySpecifications, isValidIBAN } from 'ibantools';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { introducedAsVersion, isAlnum, isDigit, isUpper, isWordChar } from './chars.js';
import { phoneValidity } from './phone-plan.js';

/** A digit, letter or `_` before `s`, or a separator right after a digit: `s` continues a number. */
function continuesNumber(text: string, s: number, from: number): boolean {
  if (s <= from) return false;
  const before = text.charCodeAt(s - 1);
  if (isWordChar(before)) return true;
  if ((before === 0x20 || before === 0x2d || before === 0x2e || before === 0x2f) && s - 1 > from) {
    return isDigit(text.charCodeAt(s - 2));
  }
  return false;
}

/** After `e`: a word character, or `.`/`-` then a digit, means the number goes on. */
function numberGoesOn(text: string, e: number, to: number): boolean {
  if (e >= to) return false;
  const next = text.charCodeAt(e);
  if (isWordChar(next)) return true;
  return (next === 0x2e || next === 0x2d) && e + 1 < to && isDigit(text.charCodeAt(e + 1));
}

// ---------------------------------------------------------------------------------------
// Payment cards: 13–19 digits, optionally grouped with single spaces or dashes (one kind),
// passing the Luhn check and card-validator's brand check (issuer prefix and length, Luhn
// for UnionPay too). Grouped numbers must be grouped where the brand groups them (4-4-4-4,
// Amex 4-6-5, …), which spares phone-like and reference numbers. An ungrouped run of 17–19
// digits is not reported: at that length it is far more often a 64-bit id (snowflake, trace
// id) than one of the rare 19-digit cards, which are printed grouped.

export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 0x30;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export function cardAt(text: string, s: number, from: number, to: number): number {
  if (continuesNumber(text, s, from)) return -1;
  // First pass without allocating: digit count, separator kind, gap positions.
  let count = 0;
  let separator = -1;
  let gapMask = 0;
  let i = s;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      if (++count > 19) return -1;
      i++;
      continue;
    }
    if ((c === 0x20 || c === 0x2d) && (separator === -1 || separator === c) && i + 1 < to && isDigit(text.charCodeAt(i + 1))) {
      separator = c;
      gapMask |= 1 << count;
      i++;
      continue;
    }
    break;
  }
  if (count < 13 || numberGoesOn(text, i, to) || (gapMask === 0 && count > 16)) return -1;
  let digits = '';
  for (let k = s; k < i; k++) if (isDigit(text.charCodeAt(k))) digits += text[k];
  if (!luhn(digits)) return -1;
  const verdict = cardValidator.number(digits, { luhnValidateUnionPay: true });
  if (!verdict.isValid || verdict.card === null) return -1;
  if (gapMask !== 0) {
    let allowed = 1 << 16;
    for (const g of verdict.card.gaps) allowed |= 1 << g;
    if ((gapMask & ~allowed) !== 0) return -1;
  }
  return i;
}

// ---------------------------------------------------------------------------------------
// US Social Security numbers: AAA-GG-SSSS only. Area not 000, 666 or 900–999; group not 00;
// serial not 0000; nor the two numbers known from advertising (078-05-1120, 219-09-9999).
// The undashed nine-digit form is not reported: any nine-digit id, amount or phone fragment
// would match it, and most of those pass the area/group/serial rules.

export function ssnAt(text: string, s: number, from: number, to: number): number {
  if (s + 11 > to || continuesNumber(text, s, from)) return -1;
  for (let k = 0; k < 11; k++) {
    const c = text.charCodeAt(s + k);
    if (k === 3 || k === 6 ? c !== 0x2d : !isDigit(c)) return -1;
  }
  if (numberGoesOn(text, s + 11, to)) return -1;
  const area = Number(text.slice(s, s + 3));
  const group = text.slice(s + 4, s + 6);
  const serial = text.slice(s + 7, s + 11);
  if (area === 0 || area === 666 || area >= 900 || group === '00' || serial === '0000') return -1;
  const whole = text.slice(s, s + 11);
  if (whole === '078-05-1120' || whole === '219-09-9999') return -1;
  return s + 11;
}

// ---------------------------------------------------------------------------------------
// IBAN: country code, check digits, BBAN; the length the country's registry entry requires
// (ibantools), upper case, optionally in groups of four separated by single spaces, then
// ibantools' full validation (BBAN format and ISO 7064 mod-97-10 check digits). Checked at
// the run start of the check digits.

let ibanLengths: Map<string, number> | null = null;

function ibanLength(country: string): number | undefined {
  if (ibanLengths === null) {
    ibanLengths = new Map();
    for (const [code, spec] of Object.entries(getCountrySpecifications())) {
      if (typeof spec.chars === 'number') ibanLengths.set(code, spec.chars);
    }
  }
  return ibanLengths.get(country);
}

export function ibanAt(text: string, s: number, from: number, to: number): { start: number; end: number } | null {
  const start = s - 2;
  if (start < from || !isUpper(text.charCodeAt(start)) || !isUpper(text.charCodeAt(start + 1))) return null;
  if (start > from && isWordChar(text.charCodeAt(start - 1))) return null;
  const length = ibanLength(text.slice(start, s));
  if (length === undefined) return null;
  let electronic = '';
  let i = start;
  while (electronic.length < length && i < to) {
    const c = text.charCodeAt(i);
    if (isDigit(c) || isUpper(c)) {
      electronic += text[i];
      i++;
    } else if (c === 0x20 && electronic.length % 4 === 0 && i + 1 < to && isAlnum(text.charCodeAt(i + 1))) {
      i++;
    } else {
      return null;
    }
  }
  if (electronic.length < length || (i < to && isWordChar(text.charCodeAt(i)))) return null;
  return isValidIBAN(electronic) ? { start, end: i } : null;
}

// ---------------------------------------------------------------------------------------
// Phone numbers: a phone-shaped stretch (7–15 digits, E.164 §6.2, in groups separated by
// single spaces, dashes, dots, slashes or parentheses), then libphonenumber-js (full
// metadata) in the default region; only numbers it finds valid are reported. The linear
// scanner finds the candidate; libphonenumber's own text search (`findPhoneNumbersInText`)
// is not run over whole strings: it is regular-expression based and far slower. A stretch is
// phone-shaped when it starts with `+`, has a parenthesized area code, or has at least three
// groups with one kind of separator (and is not a date or a dotted quad); any other digit
// run only when a phone word (tel, phone, mobile, cell, fax, call, sms, whatsapp, contact)
// precedes it closely. So epoch milliseconds, order numbers and numeric ids, which often
// are valid numbering-plan digit strings, are spared.

const MIN_PHONE_DIGITS = 7;
const MAX_PHONE_DIGITS = 15;
const KEYWORD_WINDOW = 24;
const PHONE_WORDS = ['tel', 'phone', 'mobile', 'cell', 'fax', 'call', 'sms', 'whatsapp', 'contact', 'mob.', 'ph.'];

function isPhoneSeparator(c: number): boolean {
  return c === 0x20 || c === 0x2d || c === 0x2e || c === 0x2f || c === 0x28 || c === 0x29 || c === 0xa0;
}

function hasPhoneWord(text: string, start: number, from: number): boolean {
  const head = text.slice(Math.max(from, start - KEYWORD_WINDOW), start).toLowerCase();
  return PHONE_WORDS.some((w) => head.includes(w));
}

const SEP_SPACE = 1;
const SEP_DASH = 2;
const SEP_DOT = 4;
const SEP_SLASH = 8;

/** Where a phone number whose digits start at `s` starts: an optional `+` and/or `(` first. */
export function phoneStart(text: string, s: number, from = 0): number {
  let start = s;
  if (start > from && text.charCodeAt(start - 1) === 0x28) start--;
  if (start > from && text.charCodeAt(start - 1) === 0x2b) start--;
  return start;
}

/**
 * Validations left for one scan. libphonenumber-js costs microseconds per number; past the
 * budget a phone-shaped candidate is reported without validation, so a message made of
 * numbers costs bounded time and errs towards redacting.
 */
export interface PhoneBudget {
  left: number;
}

export const DEFAULT_PHONE_VALIDATIONS = 2000;

/** At most this many shorter readings (dropping trailing groups) are validated per stretch. */
const MAX_READINGS = 3;
const MAX_GROUPS = 16;
// Per group of the stretch being read: end offset, digits so far, separator kinds so far, length.
const groupEnd = new Int32Array(MAX_GROUPS);
const groupDigits = new Int32Array(MAX_GROUPS);
const groupKinds = new Int32Array(MAX_GROUPS);
const groupLength = new Int32Array(MAX_GROUPS);

/**
 * A valid phone number whose digits start at the digit-run start `s`: its end, or -1. The
 * stretch is read group by group up to 15 digits; when the whole stretch is not a valid
 * number, shorter readings ending at a group boundary are tried (`… 2671 24/7`).
 */
export function phoneAt(text: string, s: number, from: number, to: number, region: CountryCode, budget: PhoneBudget): number {
  const start = phoneStart(text, s, from);
  const plus = start < s && text.charCodeAt(start) === 0x2b;
  let paren = s - 1 >= from && text.charCodeAt(s - 1) === 0x28;
  if (start > from) {
    const before = text.charCodeAt(start - 1);
    if (isWordChar(before) || before === 0x2b) return -1;
    if (isPhoneSeparator(before) && start - 1 > from) {
      const b2 = text.charCodeAt(start - 2);
      if (isDigit(b2) || b2 === 0x29) return -1;
    }
  }
  let digits = 0;
  let kinds = 0;
  let groups = 0;
  let length = 0;
  let i = s;
  let parenAt = paren ? 0 : -1;
  for (;;) {
    // A digit.
    if (i < to && isDigit(text.charCodeAt(i))) {
      if (digits === MAX_PHONE_DIGITS) break;
      digits++;
      length++;
      i++;
      continue;
    }
    // End of a group.
    groupEnd[groups] = i;
    groupDigits[groups] = digits;
    groupKinds[groups] = kinds;
    groupLength[groups] = length;
    groups++;
    if (groups === MAX_GROUPS) break;
    // One or two separator characters (`) `, ` (`) followed by a digit continue the number.
    let j = i;
    while (j < to && j - i < 2 && isPhoneSeparator(text.charCodeAt(j))) j++;
    if (j === i || j >= to || !isDigit(text.charCodeAt(j))) break;
    for (let k = i; k < j; k++) {
      const sep = text.charCodeAt(k);
      if (sep === 0x28 || sep === 0x29) {
        if (parenAt === -1) parenAt = groups;
      } else {
        kinds |= sep === 0x2d ? SEP_DASH : sep === 0x2e ? SEP_DOT : sep === 0x2f ? SEP_SLASH : SEP_SPACE;
      }
    }
    length = 0;
    i = j;
  }
  if (groups === 0 || groupDigits[groups - 1]! < MIN_PHONE_DIGITS) return -1;
  let readings = 0;
  for (let g = groups - 1; g >= 0 && readings < MAX_READINGS; g--) {
    const d = groupDigits[g]!;
    if (d < MIN_PHONE_DIGITS) break;
    const end = groupEnd[g]!;
    if (numberGoesOn(text, end, to) && g === groups - 1) continue;
    if (g < groups - 1 && isDigit(text.charCodeAt(end))) continue;
    const n = g + 1;
    const k = groupKinds[g]!;
    paren = parenAt !== -1 && parenAt <= g;
    const oneKind = k !== 0 && (k & (k - 1)) === 0;
    const l0 = groupLength[0]!;
    const l1 = n > 1 ? groupLength[1]! : 0;
    const l2 = n > 2 ? groupLength[2]! : 0;
    const l3 = n > 3 ? groupLength[3]! : 0;
    const date = n === 3 && k !== SEP_SPACE && ((l0 === 4 && l1 <= 2 && l2 <= 2) || (l0 <= 2 && l1 <= 2 && l2 === 4));
    const dottedQuad = k === SEP_DOT && n === 4 && l0 <= 3 && l1 <= 3 && l2 <= 3 && l3 <= 3;
    // Dotted numbers are phone numbers in short groups (415.555.2671, 01.23.45.67.89);
    // a longer group makes it a version or a build number.
    let longGroup = false;
    if ((k & SEP_DOT) !== 0) for (let x = 0; x < n; x++) if (groupLength[x]! > 4) longGroup = true;
    const shaped = plus || paren || (n >= 3 && oneKind && !date && !dottedQuad && !longGroup);
    if (!shaped && !hasPhoneWord(text, start, from)) continue;
    if (!plus && introducedAsVersion(text, start, from)) return -1;
    readings++;
    if (budget.left <= 0) return end;
    budget.left--;
    if (validPhone(text.slice(start, end), region)) return end;
  }
  return -1;
}

// The precompiled numbering plans (phone-plan.ts) answer most candidates in about a
// microsecond, less than a cache lookup and insertion cost; what they leave open goes to
// libphonenumber-js (strict parse, full metadata, several µs), whose verdicts are cached,
// bounded: numbers repeat across results (support lines, a customer's own number).
const PHONE_CACHE_MAX = 4096;
const phoneCache = new Map<string, boolean>();

/** Forgets every cached verdict (benchmarks measure validation on unseen numbers). */
export function resetPhoneValidationCache(): void {
  phoneCache.clear();
}

/**
 * Whether the whole candidate is one valid number in the region's numbering plan (or the plan
 * its +country code names): libphonenumber-js's verdict.
 */
function validPhone(candidate: string, region: CountryCode): boolean {
  const decided = phoneValidity(candidate, region);
  if (decided !== undefined) return decided;
  const key = region + candidate;
  const cached = phoneCache.get(key);
  if (cached !== undefined) return cached;
  const valid = parsePhoneNumberFromString(candidate, { defaultCountry: region, extract: false })?.isValid() === true;
  if (phoneCache.size >= PHONE_CACHE_MAX) phoneCache.clear();
  phoneCache.set(key, valid);
  return valid;
}
