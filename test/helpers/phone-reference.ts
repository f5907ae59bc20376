// The phone detector as it was before validation moved to precompiled numbering plans: every
// phone-shaped candidate validated by libphonenumber-js itself (no cache). Kept for the
// differential property test only, as the reference the production detector must agree with.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { introducedAsVersion, isDigit, isWordChar } from '../../src/sanitize/detect/chars.ts';

/** After `e`: a word character, or `.`/`-` then a digit, means the number goes on. */
function numberGoesOn(text: string, e: number, to: number): boolean {
  if (e >= to) return false;
  const next = text.charCodeAt(e);
  if (isWordChar(next)) return true;
  return (next === 0x2e || next === 0x2d) && e + 1 < to && isDigit(text.charCodeAt(e + 1));
}

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
export function referencePhoneStart(text: string, s: number, from = 0): number {
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
interface PhoneBudget {
  left: number;
}

export const REFERENCE_PHONE_VALIDATIONS = 2000;

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
export function referencePhoneAt(text: string, s: number, from: number, to: number, region: CountryCode, budget: PhoneBudget): number {
  const start = referencePhoneStart(text, s, from);
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

/** libphonenumber-js's verdict on the whole candidate (strict parse, no extraction). */
export function referenceValidPhone(candidate: string, region: CountryCode): boolean {
  return parsePhoneNumberFromString(candidate, { defaultCountry: region, extract: false })?.isValid() === true;
}

function validPhone(candidate: string, region: CountryCode): boolean {
  return referenceValidPhone(candidate, region);
}
