import { createHash } from 'node:crypto';
import { REDACTED, secrets } from '../log/index.js';
import { canonicalJson } from './canonical-json.js';

/** Argument names whose values are credentials whatever they look like. */
const SECRET_KEY = /pass(word|wd|phrase)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|authorization|credential|cookie|session[-_]?id|^pin$|^otp$|signature/i;
/** Values that are credentials whatever their key is called. */
const SECRET_VALUE = [
  /^eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./, // JWT
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/, // AWS access key id
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{30,}\b/,
  /\bxox[abpr]-[A-Za-z0-9-]{10,}\b/, // Slack
  /\bsk_(live|test)_[A-Za-z0-9]{16,}\b/, // Stripe
  /\bsk-[A-Za-z0-9_-]{20,}\b/, // OpenAI-style
  /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, // URL with user:password
];
const MAX_STRING = 1024;
const MAX_DEPTH = 8;
const MAX_KEYS = 100;

export function looksSecret(value: string): boolean {
  return SECRET_VALUE.some((pattern) => pattern.test(value));
}

/** A copy of `value` fit for the audit log: credentials replaced, long strings cut, depth bounded. */
export function redactArguments(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    if (looksSecret(value)) return REDACTED;
    const scrubbed = secrets.scrub(value);
    return scrubbed.length > MAX_STRING ? `${scrubbed.slice(0, MAX_STRING)}…[${scrubbed.length - MAX_STRING} more chars]` : scrubbed;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[depth limit]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_KEYS).map((v) => redactArguments(v, depth + 1));
    if (value.length > MAX_KEYS) items.push(`[${value.length - MAX_KEYS} more items]`);
    return items;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [key, member] of Object.entries(value)) {
    if (n++ >= MAX_KEYS) {
      out['…'] = `[${Object.keys(value).length - MAX_KEYS} more keys]`;
      break;
    }
    setOwn(out, key, SECRET_KEY.test(key) && member !== null && member !== '' ? REDACTED : redactArguments(member, depth + 1));
  }
  return out;
}

/**
 * Binds the exact arguments (approvals are tied to it) without storing them. SHA-256 over the
 * canonical JSON, prefixed with the algorithm so the format can evolve.
 */
export function hashArguments(args: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(args ?? {})).digest('base64url')}`;
}

/** Deep copy with registered secrets scrubbed from every string (audit bodies). */
export function scrubStrings(value: unknown): unknown {
  if (typeof value === 'string') return secrets.scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(scrubStrings);
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) setOwn(out, key, scrubStrings(member));
  return out;
}

/** `out[key] = value` that keeps `__proto__` a key (plain assignment would set the prototype and drop it). */
function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}
