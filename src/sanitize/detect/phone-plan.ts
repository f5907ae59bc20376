// Phone-number validity without libphonenumber-js's per-call overhead. libphonenumber-js
// builds a new RegExp from its metadata pattern strings on every check (several per number,
// patterns of up to a few kilobytes), which made validation ~10 µs per number and phone
// detection the costliest PII detector. This module reads the same metadata (libphonenumber-js
// `max`, through its own `Metadata` accessors), compiles each pattern once per numbering plan,
// and follows the steps `parsePhoneNumberFromString(text, { defaultCountry, extract: false })`
// followed by `.isValid()` takes for a number written as an optional leading `+` and digits
// with ` -./()` and no-break-space separators: IDD prefix, country calling code (with and
// without `+`), national prefix, region of a shared calling code, then the number types.
// Inputs outside that shape, and the rare non-geographic calling codes (+800, +882, …), get
// no verdict and go to libphonenumber-js itself. A differential property test holds the two
// to the same answers.
//
// The expressions are libphonenumber-js's metadata patterns (the ones it runs itself), applied
// here only to digit strings of at most MAX_DIGITS characters: bounded input.

import { Metadata, type CountryCode } from 'libphonenumber-js/max';

/** libphonenumber-js's bounds on a national significant number (MIN/MAX_LENGTH_FOR_NSN). */
const MIN_NSN = 2;
const MAX_NSN = 17;
/** Longest digit string given a verdict (phone candidates have at most 15 digits). */
export const MAX_DIGITS = 17;

/** The parts of libphonenumber-js's `Metadata` read here (its published typings list few). */
interface TypeApi {
  pattern(): string;
  possibleLengths(): number[] | undefined;
}
interface NumberingPlanApi {
  callingCode(): string;
  IDDPrefix(): string | undefined;
  nationalNumberPattern(): string;
  possibleLengths(): number[] | undefined;
  nationalPrefixForParsing(): string | undefined;
  nationalPrefixTransformRule(): string | undefined;
  leadingDigits(): string | undefined;
  hasTypes(): boolean;
  type(type: string): TypeApi | undefined;
}
interface MetadataApi {
  selectNumberingPlan(countryOrCallingCode: string): void;
  numberingPlan: NumberingPlanApi;
  hasCountry(country: string): boolean;
  hasCallingCode(callingCode: string): boolean;
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined;
}

interface TypeRule {
  readonly pattern: RegExp;
  readonly lengths: readonly number[] | undefined;
}

/** One region's numbering plan, compiled. */
interface Plan {
  readonly country: string;
  readonly callingCode: string;
  readonly idd: RegExp | undefined;
  readonly nationalNumber: RegExp;
  readonly possibleLengths: readonly number[] | undefined;
  readonly nationalPrefix: RegExp | undefined;
  readonly nationalPrefixTransform: string | undefined;
  readonly leadingDigits: RegExp | undefined;
  readonly hasTypes: boolean;
  /** FIXED_LINE, then the other types in libphonenumber-js's order; absent types left out. */
  readonly types: readonly TypeRule[];
}

// The order getNumberType tries types in; any match makes the number valid.
const TYPE_ORDER = ['FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

let metadata: MetadataApi | null = null;
const plans = new Map<string, Plan>();
/** Per calling code: its regions (main one first), or null when non-geographic. */
const callingCodeRegions = new Map<string, readonly string[] | null>();

function meta(): MetadataApi {
  metadata ??= new Metadata() as unknown as MetadataApi;
  return metadata;
}

function whole(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}
function prefix(source: string): RegExp {
  return new RegExp(`^(?:${source})`);
}

function plan(country: string): Plan {
  const known = plans.get(country);
  if (known !== undefined) return known;
  const m = meta();
  m.selectNumberingPlan(country);
  const p = m.numberingPlan;
  const types: TypeRule[] = [];
  if (p.hasTypes()) {
    for (const name of TYPE_ORDER) {
      const t = p.type(name);
      // A type without a pattern never matches (isNumberTypeEqualTo).
      if (t === undefined || !t.pattern()) continue;
      types.push({ pattern: whole(t.pattern()), lengths: t.possibleLengths() });
    }
  }
  const idd = p.IDDPrefix();
  const npfp = p.nationalPrefixForParsing();
  const leading = p.leadingDigits();
  const compiled: Plan = {
    country,
    callingCode: p.callingCode(),
    idd: idd ? prefix(idd) : undefined,
    nationalNumber: whole(p.nationalNumberPattern()),
    possibleLengths: p.possibleLengths(),
    nationalPrefix: npfp ? prefix(npfp) : undefined,
    nationalPrefixTransform: p.nationalPrefixTransformRule() || undefined,
    leadingDigits: leading ? prefix(leading) : undefined,
    hasTypes: p.hasTypes(),
    types,
  };
  plans.set(country, compiled);
  return compiled;
}

function regionsOf(callingCode: string): readonly string[] | null {
  let regions = callingCodeRegions.get(callingCode);
  if (regions === undefined) {
    regions = meta().getCountryCodesForCallingCode(callingCode) ?? null;
    callingCodeRegions.set(callingCode, regions);
  }
  return regions;
}

const knownCallingCodes = new Map<string, boolean>();
function isCallingCode(code: string): boolean {
  let known = knownCallingCodes.get(code);
  if (known === undefined) {
    known = meta().hasCallingCode(code);
    knownCallingCodes.set(code, known);
  }
  return known;
}

/** getNumberType(…) !== undefined. */
function hasType(p: Plan, nsn: string): boolean {
  if (!p.nationalNumber.test(nsn)) return false;
  for (const t of p.types) {
    if (t.lengths !== undefined && !t.lengths.includes(nsn.length)) continue;
    if (t.pattern.test(nsn)) return true;
  }
  return false;
}

/** getCountryByCallingCode: the region of a shared calling code this number belongs to. */
function regionFor(regions: readonly string[], nsn: string): string | undefined {
  if (regions.length === 1) return regions[0];
  for (const r of regions) {
    const p = plan(r);
    if (p.leadingDigits !== undefined) {
      if (nsn !== '' && p.leadingDigits.test(nsn)) return r;
    } else if (hasType(p, nsn)) {
      return r;
    }
  }
  return undefined;
}

/** checkNumberLength without a type. */
function lengthVerdict(nsn: string, p: Plan): 'possible' | 'short' | 'long' | 'invalid' {
  const lengths = p.possibleLengths;
  if (!lengths) return 'possible';
  const n = nsn.length;
  const min = lengths[0]!;
  if (min === n) return 'possible';
  if (min > n) return 'short';
  if (lengths[lengths.length - 1]! < n) return 'long';
  return lengths.indexOf(n, 1) >= 0 ? 'possible' : 'invalid';
}

/** extractNationalNumber: the national prefix (and carrier code) removed when that is right. */
function nationalNumber(number: string, p: Plan): string {
  if (p.nationalPrefix === undefined || number === '') return number;
  const match = p.nationalPrefix.exec(number);
  if (match === null) return number;
  const groups = match.length - 1;
  const captured = groups > 0 && Boolean(match[groups]);
  const stripped =
    p.nationalPrefixTransform !== undefined && captured ? number.replace(p.nationalPrefix, p.nationalPrefixTransform) : number.slice(match[0].length);
  if (stripped === number) return number;
  // Keep the prefix when the number was valid-shaped with it and is not without it.
  if (p.nationalNumber.test(number) && !p.nationalNumber.test(stripped)) return number;
  if (p.possibleLengths) {
    const regions = regionsOf(p.callingCode);
    const region = regions === null ? undefined : regionFor(regions, stripped);
    const verdict = lengthVerdict(stripped, region === undefined ? p : plan(region));
    if (verdict === 'short' || verdict === 'invalid') return number;
  }
  return stripped;
}

/** Validity of `+<digits>` once the calling code is found: `undefined` defers. */
function validInternational(digits: string): boolean | undefined {
  if (digits.charCodeAt(0) === 0x30) return false;
  for (let i = 1; i <= 3 && i <= digits.length; i++) {
    const code = digits.slice(0, i);
    if (isCallingCode(code)) return validWithCallingCode(code, digits.slice(i), undefined);
  }
  return false;
}

function validWithCallingCode(code: string, number: string, defaultCountry: string | undefined): boolean | undefined {
  const regions = regionsOf(code);
  // Non-geographic codes (+800, +882, …) have plans of their own: left to libphonenumber-js.
  if (regions === null) return undefined;
  if (number === '') return false;
  const main = defaultCountry === undefined ? plan(regions[0]!) : plan(defaultCountry);
  const nsn = nationalNumber(number, main);
  const country = regionFor(regions, nsn) ?? defaultCountry;
  if (nsn.length < MIN_NSN || nsn.length > MAX_NSN) return false;
  const p = country === undefined ? plan(regions[0]!) : plan(country);
  return p.hasTypes ? hasType(p, nsn) : p.nationalNumber.test(nsn);
}

/** A number written without `+` in `region`: IDD prefix, calling code without `+`, or national. */
function validNational(digits: string, region: string): boolean | undefined {
  const home = plan(region);
  if (home.idd !== undefined) {
    const m = home.idd.exec(digits);
    if (m !== null) {
      const rest = digits.slice(m[0].length);
      // stripIddPrefix: not an IDD prefix when nothing or a 0 follows it.
      if (rest !== '' && rest !== digits && rest.charCodeAt(0) !== 0x30) return validInternational(rest);
    }
  }
  const code = home.callingCode;
  if (digits.startsWith(code)) {
    // The region's own calling code typed without `+` (extractCountryCallingCodeFromInternationalNumberWithoutPlusSign).
    const shorter = digits.slice(code.length);
    const shorterNsn = nationalNumber(shorter, home);
    const nsn = nationalNumber(digits, home);
    if ((!home.nationalNumber.test(nsn) && home.nationalNumber.test(shorterNsn)) || lengthVerdict(nsn, home) === 'long') {
      return validWithCallingCode(code, shorter, undefined);
    }
  }
  return validWithCallingCode(code, digits, region);
}

const supported = new Map<string, boolean>();

/**
 * Whether `candidate` (an optional leading `+`, then digits with ` -./()` or no-break-space
 * separators) is a valid phone number for libphonenumber-js (`max` metadata) with `region` as
 * the default country; `undefined` when this module does not decide and libphonenumber-js
 * must be asked.
 */
export function phoneValidity(candidate: string, region: CountryCode): boolean | undefined {
  let isSupported = supported.get(region);
  if (isSupported === undefined) {
    isSupported = meta().hasCountry(region);
    supported.set(region, isSupported);
  }
  if (!isSupported) return undefined;
  let digits = '';
  const plus = candidate.charCodeAt(0) === 0x2b;
  for (let i = plus ? 1 : 0; i < candidate.length; i++) {
    const c = candidate.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) digits += candidate[i];
    else if (!(c === 0x20 || c === 0x2d || c === 0x2e || c === 0x2f || c === 0x28 || c === 0x29 || c === 0xa0)) return undefined;
  }
  // Fewer than three digits is not a viable number to libphonenumber-js; not worth a path here.
  if (digits.length < 3 || digits.length > MAX_DIGITS) return undefined;
  return plus ? validInternational(digits) : validNational(digits, region);
}
