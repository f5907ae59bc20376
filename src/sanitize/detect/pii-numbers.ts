// Number-shaped personal data, checked at the start of each digit run: payment cards, US
// Social Security numbers, IBANs and phone numbers. Each checker looks at a bounded stretch
// of text from the run start, so the scan is linear.

import cardValidator from 'card-validator';
import { getCountrySpecifications, isValidIBAN } from 'ibantools';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { isAlnum, isDigit, isUpper, isWordChar } from './chars.js';

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
// Amex 4-6-5, …), which spares phone-like and reference numbers.

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
  if (count < 13 || numberGoesOn(text, i, to)) return -1;
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

/** A valid phone number whose digits start at the digit-run start `s`: its end, or -1. */
export function phoneAt(text: string, s: number, from: number, to: number, region: CountryCode): number {
  const start = phoneStart(text, s, from);
  const plus = start < s && text.charCodeAt(start) === 0x2b;
  let paren = text.charCodeAt(s - 1) === 0x28 && s - 1 >= from;
  if (start > from) {
    const before = text.charCodeAt(start - 1);
    if (isWordChar(before) || before === 0x2b) return -1;
    if (isPhoneSeparator(before) && start - 1 > from) {
      const b2 = text.charCodeAt(start - 2);
      if (isDigit(b2) || b2 === 0x29) return -1;
    }
  }
  let digits = 0;
  let groups = 1;
  let groupLength = 0;
  // Lengths of the first four groups (for the date and dotted-quad shapes), and the rest.
  let g0 = 0;
  let g1 = 0;
  let g2 = 0;
  let g3 = 0;
  let longTail = false;
  let kinds = 0;
  let i = s;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      digits++;
      groupLength++;
      if (digits > MAX_PHONE_DIGITS) return -1;
      i++;
      continue;
    }
    // One or two separator characters (`) `, ` (`) followed by a digit continue the number.
    let j = i;
    while (j < to && j - i < 2 && isPhoneSeparator(text.charCodeAt(j))) j++;
    if (j === i || j >= to || !isDigit(text.charCodeAt(j))) break;
    for (let k = i; k < j; k++) {
      const sep = text.charCodeAt(k);
      if (sep === 0x28 || sep === 0x29) paren = true;
      else kinds |= sep === 0x2d ? SEP_DASH : sep === 0x2e ? SEP_DOT : sep === 0x2f ? SEP_SLASH : SEP_SPACE;
    }
    if (groups === 1) g0 = groupLength;
    else if (groups === 2) g1 = groupLength;
    else if (groups === 3) g2 = groupLength;
    else if (groupLength > 3) longTail = true;
    groups++;
    groupLength = 0;
    i = j;
  }
  if (digits < MIN_PHONE_DIGITS || numberGoesOn(text, i, to)) return -1;
  if (groups === 1) g0 = groupLength;
  else if (groups === 2) g1 = groupLength;
  else if (groups === 3) g2 = groupLength;
  else if (groups === 4) g3 = groupLength;
  const oneKind = kinds !== 0 && (kinds & (kinds - 1)) === 0;
  const date =
    groups === 3 && kinds !== SEP_SPACE && ((g0 === 4 && g1 <= 2 && g2 <= 2) || (g0 <= 2 && g1 <= 2 && g2 === 4));
  const dottedQuad = kinds === SEP_DOT && groups === 4 && !longTail && g0 <= 3 && g1 <= 3 && g2 <= 3 && g3 <= 3;
  const shaped = plus || paren || (groups >= 3 && oneKind && !date && !dottedQuad);
  if (!shaped && !hasPhoneWord(text, start, from)) return -1;
  return validPhone(text.slice(start, i), region) ? i : -1;
}

// Validation is the costly step (libphonenumber-js parses with full metadata); numbers repeat
// across results (support lines, a customer's own number), so verdicts are cached, bounded.
const PHONE_CACHE_MAX = 4096;
const phoneCache = new Map<string, boolean>();

function validPhone(candidate: string, region: CountryCode): boolean {
  const key = region + candidate;
  const cached = phoneCache.get(key);
  if (cached !== undefined) return cached;
  // The whole candidate must be one valid number in the region's numbering plan (or the
  // plan its +country code names): libphonenumber-js's strict parse, no extraction.
  const parsed = parsePhoneNumberFromString(candidate, { defaultCountry: region, extract: false });
  const valid = parsed !== undefined && parsed.isValid();
  if (phoneCache.size >= PHONE_CACHE_MAX) phoneCache.clear();
  phoneCache.set(key, valid);
  return valid;
}
