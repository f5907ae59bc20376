// Personal data: number-shaped kinds are checked at each digit-run start, emails at each `@`,
// IPv6 addresses around each `:`. The engine finds digit runs, `@` and `:` in its single
// automaton pass and calls the parts it needs; `scanPii` does the whole job on one string.

import type { CountryCode } from 'libphonenumber-js/max';
import { isDigit, isWordChar } from './chars.js';
import { findEmails } from './pii-email.js';
import { findIpv6, ipv4At } from './pii-ip.js';
import { DEFAULT_PHONE_VALIDATIONS, cardAt, ibanAt, phoneAt, phoneStart, ssnAt, type PhoneBudget } from './pii-numbers.js';

export type PiiKind = 'email' | 'phone' | 'ip' | 'card' | 'iban' | 'ssn';

export const PII_KINDS: readonly PiiKind[] = ['email', 'phone', 'ip', 'card', 'iban', 'ssn'];

/** Placeholder type per kind (`[REDACTED:email]`, …). */
export const PII_TYPES: Readonly<Record<PiiKind, string>> = {
  email: 'email',
  phone: 'phone',
  ip: 'ip_address',
  card: 'credit_card',
  iban: 'iban',
  ssn: 'ssn',
};

export interface PiiScanOptions {
  readonly kinds: ReadonlySet<PiiKind>;
  /** Region for numbers written without a country code (ISO 3166-1 alpha-2). */
  readonly phoneRegion: CountryCode;
}

/** The options as flags, computed once (the digit-run check runs very often). */
export interface PiiFlags {
  readonly email: boolean;
  readonly phone: boolean;
  readonly ip: boolean;
  readonly card: boolean;
  readonly iban: boolean;
  readonly ssn: boolean;
  readonly phoneRegion: CountryCode;
}

export function piiFlags(options: PiiScanOptions): PiiFlags {
  const k = options.kinds;
  return {
    email: k.has('email'),
    phone: k.has('phone'),
    ip: k.has('ip'),
    card: k.has('card'),
    iban: k.has('iban'),
    ssn: k.has('ssn'),
    phoneRegion: options.phoneRegion,
  };
}

export type { PhoneBudget } from './pii-numbers.js';
export { DEFAULT_PHONE_VALIDATIONS } from './pii-numbers.js';

export type PiiCallback = (type: string, start: number, end: number) => void;

/** Whether any number-shaped kind is on (digit runs need checking). */
export function wantsDigitRuns(f: PiiFlags): boolean {
  return f.ip || f.card || f.ssn || f.iban || f.phone;
}

/**
 * The number-shaped checks at the digit-run start `i` of `text[0, to)`. A cheap look at the
 * run (its length, the characters around it) decides which checks can apply: most digit runs
 * (in hex ids, timestamps, prose) need none.
 */
export function checkDigitRun(text: string, i: number, to: number, f: PiiFlags, budget: PhoneBudget, onFinding: PiiCallback): void {
  let e = i + 1;
  while (e < to && isDigit(text.charCodeAt(e))) e++;
  const run = e - i;
  const next = e < to ? text.charCodeAt(e) : -1;
  const before = i > 0 ? text.charCodeAt(i - 1) : -1;
  // A run glued to a word character is part of an identifier; only an IBAN (country code
  // letters, then the check digits) starts that way.
  if (isWordChar(before)) {
    if (f.iban && i >= 2 && isIbanStart(text, i)) {
      const r = ibanAt(text, i, 0, to);
      if (r !== null) onFinding(PII_TYPES.iban, r.start, r.end);
    }
    return;
  }
  if (f.ip && run <= 3 && next === 0x2e) {
    const end = ipv4At(text, i, 0, to);
    if (end !== -1) onFinding(PII_TYPES.ip, i, end);
  }
  if (f.ssn && run === 3 && next === 0x2d) {
    const end = ssnAt(text, i, 0, to);
    if (end !== -1) onFinding(PII_TYPES.ssn, i, end);
  }
  // Every brand groups its first four digits; ungrouped numbers are 13–16 digits long.
  if (f.card && ((run === 4 && (next === 0x20 || next === 0x2d)) || (run >= 13 && run <= 16))) {
    const end = cardAt(text, i, 0, to);
    if (end !== -1) onFinding(PII_TYPES.card, i, end);
  }
  // A phone number has at least 7 digits: in this run, or in groups after a separator.
  if (f.phone && (run >= 7 || isPhoneSeparatorCode(next))) {
    const end = phoneAt(text, i, 0, to, f.phoneRegion, budget);
    if (end >= 0) onFinding(PII_TYPES.phone, phoneStart(text, i), end);
  }
}

function isPhoneSeparatorCode(c: number): boolean {
  return c === 0x20 || c === 0x2d || c === 0x2e || c === 0x2f || c === 0x28 || c === 0x29 || c === 0xa0;
}

export function checkEmails(text: string, f: PiiFlags, onFinding: PiiCallback): void {
  if (f.email) findEmails(text, 0, text.length, onFinding, PII_TYPES.email);
}

export function checkIpv6(text: string, f: PiiFlags, onFinding: PiiCallback): void {
  if (f.ip) findIpv6(text, 0, text.length, onFinding, PII_TYPES.ip);
}

/** Every kind in `options` over the whole of `text`. */
export function scanPii(text: string, options: PiiScanOptions, onFinding: PiiCallback): void {
  const f = piiFlags(options);
  checkEmails(text, f, onFinding);
  checkIpv6(text, f, onFinding);
  if (!wantsDigitRuns(f)) return;
  const budget: PhoneBudget = { left: DEFAULT_PHONE_VALIDATIONS };
  for (let i = 0; i < text.length; i++) {
    if (!isDigit(text.charCodeAt(i)) || (i > 0 && isDigit(text.charCodeAt(i - 1)))) continue;
    checkDigitRun(text, i, text.length, f, budget, onFinding);
  }
}

function isIbanStart(text: string, i: number): boolean {
  const a = text.charCodeAt(i - 2);
  const b = text.charCodeAt(i - 1);
  return a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a;
}
