import { createHash } from 'node:crypto';
import { REDACTED, SCAN_MARGIN, secrets } from '../log/index.js';
import { canonicalJson, canonicalJsonExtended, canonicalJsonProblem, MAX_CANONICAL_DEPTH, type CanonicalJsonProblem } from './canonical-json.js';

/*
 * Everything in this file runs on arguments a client sent, of any size and shape, on the way
 * to the audit log. So every function here is total (never throws on a JSON value) and every
 * regular expression below is linear: no two adjacent repetitions can match the same
 * characters, and an unanchored pattern that starts with a repetition may only start where the
 * repeated class begins (a lookbehind), so no character is rescanned from many start
 * positions. Strings are cut to a bounded window before any pattern sees them.
 */

/** Argument names whose values are credentials whatever they look like. */
const SECRET_KEY =
  /pass(word|wd|phrase)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|authorization|credential|cookie|session[-_]?id|^pin$|^otp$|signature/i;
/** Values that are credentials whatever their key is called. */
const SECRET_VALUE = [
  // JWT. `{5}` then `*` rather than `{5,}`: the same language, but V8 backtracks out of a
  // counted loop slowly, and this pattern may fail after reading a megabyte.
  /^eyJ[A-Za-z0-9_-]{5}[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{5}[A-Za-z0-9_-]*\./,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{30,}\b/,
  /\bxox[abpr]-[A-Za-z0-9-]{10,}\b/, // Slack
  /\bsk_(live|test)_[A-Za-z0-9]{16,}\b/, // Stripe
  /\bsk-[A-Za-z0-9_-]{20,}\b/, // OpenAI-style
];

/** A character a URL scheme may end with. */
const SCHEME_CHAR = /[a-z0-9+.-]/i;
/** `user:password@` right after a `://` (sticky: tried at that offset only). */
const USERINFO = /[^/\s:@]+:[^/\s@]+@/y;

/**
 * Whether `value` holds a URL with a user and a password: the language of
 * `/[a-z0-9+.-]+:\/\/[^/\s:@]+:[^/\s@]+@/i`, tried only where a `://` is, not at every
 * character (a run of letters was read once per `://`-less word before, the largest cost of this
 * file on prose). Linear: neither part after `://` can run past the next `://` (`/` ends both).
 */
function hasUrlWithPassword(value: string): boolean {
  for (let i = value.indexOf('://'); i >= 0; i = value.indexOf('://', i + 1)) {
    if (i === 0 || !SCHEME_CHAR.test(value[i - 1]!)) continue;
    USERINFO.lastIndex = i + 3;
    if (USERINFO.test(value)) return true;
  }
  return false;
}
/** Longest string (in UTF-16 code units) kept in a record; the rest is cut. */
export const MAX_STRING = 1024;
/** Longest argument name kept in a record. */
export const MAX_KEY = 128;
const MAX_DEPTH = 8;
const MAX_KEYS = 100;

/** True when `value` contains text shaped like a credential. Linear in the length of `value`. */
export function looksSecret(value: string): boolean {
  return SECRET_VALUE.some((pattern) => pattern.test(value)) || hasUrlWithPassword(value);
}

/** The part of `value` a record can keep, scanned for credentials within a bounded window. */
function redactString(value: string, limit: number): string {
  // Scanned up to SCAN_MARGIN past the cut, so a credential that starts before it is still found whole.
  const window = value.length > limit ? value.slice(0, limit + Math.max(SCAN_MARGIN, secrets.longest)) : value;
  if (looksSecret(window)) return REDACTED;
  const { text } = secrets.scrubPrefix(window, limit);
  return value.length > limit ? `${text}…[${value.length - limit} more chars]` : text;
}

function redactNumber(value: number): number | string {
  // Infinity has no JSON form (a client's 1e400 parses as it); the record says what it was.
  return Number.isFinite(value) ? value : `[${String(value)}]`;
}

/**
 * A copy of `value` fit for the audit log: credentials replaced, long strings and names cut,
 * depth and width bounded, non-finite numbers spelled out. Total: any JSON value (any depth,
 * `__proto__` members, lone surrogates) gives a value `canonicalJson` accepts.
 */
export function redactArguments(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value, MAX_STRING);
  if (typeof value === 'number') return redactNumber(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[depth limit]';
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (let i = 0; i < Math.min(value.length, MAX_KEYS); i++) items.push(redactArguments(value[i], depth + 1));
    if (value.length > MAX_KEYS) items.push(`[${value.length - MAX_KEYS} more items]`);
    return items;
  }
  // No prototype: a member called "__proto__" is kept as a member, not taken as a prototype.
  const out = Object.create(null) as Record<string, unknown>;
  const keys = Object.keys(value);
  for (let n = 0; n < Math.min(keys.length, MAX_KEYS); n++) {
    const key = keys[n] as string;
    const member = (value as Record<string, unknown>)[key];
    const name = uniqueName(out, redactKey(key));
    out[name] = SECRET_KEY.test(key.slice(0, MAX_KEY + SCAN_MARGIN)) && member !== null && member !== '' ? REDACTED : redactArguments(member, depth + 1);
  }
  if (keys.length > MAX_KEYS) out['…'] = `[${keys.length - MAX_KEYS} more keys]`;
  return out;
}

/** An argument name as a record may show it: cut, and scrubbed like a value (a name can carry a secret too). */
function redactKey(key: string): string {
  return redactString(key, MAX_KEY);
}

/** Two names that redact to the same text stay two members. */
function uniqueName(out: Record<string, unknown>, name: string): string {
  if (!Object.hasOwn(out, name)) return name;
  for (let i = 2; ; i++) if (!Object.hasOwn(out, `${name}#${i}`)) return `${name}#${i}`;
}

/**
 * Why arguments cannot be recorded and bound exactly, or undefined when they can: nesting
 * deeper than canonical JSON allows, or a number JSON cannot represent (Infinity from `1e400`).
 * Calls with such arguments are refused: what policy saw, what an approval binds and what the
 * upstream would receive (JSON.stringify sends Infinity as null) would no longer agree.
 */
export function argumentsProblem(args: unknown): CanonicalJsonProblem | undefined {
  return canonicalJsonProblem(args ?? {});
}

/**
 * Binds the exact arguments (approvals are tied to it) without storing them. SHA-256 over the
 * canonical JSON, prefixed with the algorithm so the format can evolve. Total: arguments with
 * no canonical form (see argumentsProblem) are hashed over the extended form, which no
 * canonical text equals, so the hash still identifies exactly what was sent.
 */
export function hashArguments(args: unknown): string {
  const value = args ?? {};
  let text: string;
  try {
    text = canonicalJson(value);
  } catch {
    text = canonicalJsonExtended(value);
  }
  return `sha256:${createHash('sha256').update(text).digest('base64url')}`;
}

/**
 * Deep copy with registered secrets, JWTs and bearer credentials scrubbed from every string
 * and member name (audit bodies). Bounded: past canonical JSON's depth it stops copying.
 */
export function scrubStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return secrets.scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_CANONICAL_DEPTH) return '[depth limit]';
  if (Array.isArray(value)) return value.map((item: unknown) => scrubStrings(item, depth + 1));
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) out[uniqueName(out, secrets.scrub(key))] = scrubStrings((value as Record<string, unknown>)[key], depth + 1);
  return out;
}
