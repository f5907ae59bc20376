import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/index.js';
import { heldCredentials } from '../log/index.js';

/**
 * The exact arguments of a call held for approval, kept so that every person and system shown
 * the request sees what the approval's arguments hash binds: every key (`__proto__`,
 * `constructor`, keys with control characters), every character, every number as it goes
 * upstream, every type ("1" is not 1), at full length.
 *
 * Captured from the canonical JSON the hash is computed over (so there is one source), and
 * encoded so that storage and JSON round trips cannot lose anything: objects become lists of
 * `[key, value]` pairs (no property assignment, so `__proto__` stays a key), keys sorted as in
 * the canonical form. The only thing ever hidden is a credential Gatehouse holds (a vault
 * value, a lease password, a literal secret from the config): it is replaced by a mask node
 * that cannot be confused with text the agent sent, and the whole capture is marked masked.
 */

/** Which kind of held value a mask stands for (shown as `[REDACTED:<label>]`). */
export const MASK_LABEL = 'vault';
export const MASK_TEXT = `[REDACTED:${MASK_LABEL}]`;

/** Text, or a masked stretch of it. */
export type MaskPart = string | { r: string };
/** A string with held credentials masked. */
export interface MaskedString {
  m: MaskPart[];
}
export interface ObjectNode {
  o: [string | MaskedString, ArgNode][];
}
/** JSON values as they are, except objects (`{o}`) and strings with a mask (`{m}`). */
export type ArgNode = null | boolean | number | string | ArgNode[] | ObjectNode | MaskedString;

export interface CapturedArguments {
  node: ArgNode;
  /** True when some value had to be hidden. */
  masked: boolean;
  /** `hashArguments` of the arguments: the same canonical JSON the node was read from. */
  argsHash: string;
}

/** Deeper than `canonicalJson` accepts: a stored node deeper than this was not written by Gatehouse. */
const MAX_DEPTH = 66;

/** Finds held credentials in a string: [start, end) ranges. */
export type CredentialFinder = (text: string) => readonly (readonly [number, number])[];

const findHeld: CredentialFinder = (text) => heldCredentials.spans(text);

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('base64url')}`;
}

/**
 * Captures `args` exactly (held credentials masked). Throws TypeError for what `hashArguments`
 * refuses too (nesting deeper than 64, non-finite numbers).
 */
export function captureArguments(args: unknown, find: CredentialFinder = findHeld): CapturedArguments {
  const canonical = canonicalJson(args ?? {});
  let masked = false;
  const text = (value: string): string | MaskedString => {
    const spans = value.length >= 4 ? find(value) : [];
    if (spans.length === 0) return value;
    masked = true;
    const parts: MaskPart[] = [];
    let at = 0;
    for (const [start, end] of spans) {
      if (start > at) parts.push(value.slice(at, start));
      parts.push({ r: MASK_LABEL });
      at = end;
    }
    if (at < value.length) parts.push(value.slice(at));
    return { m: parts };
  };
  const encode = (value: unknown): ArgNode => {
    if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(encode);
    const object = value as Record<string, unknown>;
    // JSON.parse makes every key, `__proto__` included, an own property; the default sort is
    // canonicalJson's (UTF-16 code units), so the order is the hashed one.
    return {
      o: Object.keys(object)
        .sort()
        .map((key) => [text(key), encode(object[key])] as [string | MaskedString, ArgNode]),
    };
  };
  return { node: encode(JSON.parse(canonical) as unknown), masked, argsHash: sha256(canonical) };
}

const isMasked = (node: unknown): node is MaskedString =>
  typeof node === 'object' && node !== null && !Array.isArray(node) && Array.isArray((node as MaskedString).m);
const isObject = (node: unknown): node is ObjectNode =>
  typeof node === 'object' && node !== null && !Array.isArray(node) && Array.isArray((node as ObjectNode).o);

/** The node read back from storage is not one Gatehouse writes. */
export class MalformedArgumentsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedArgumentsError';
  }
}

function checkDepth(depth: number): void {
  if (depth > MAX_DEPTH) throw new MalformedArgumentsError('stored arguments are nested deeper than Gatehouse ever writes');
}

/**
 * Everything outside printable ASCII, plus `"` and `\`, is escaped — so a bidi override
 * (U+202E), a zero-width space (U+200B), a look-alike letter (Cyrillic а, U+0430) or a control
 * character shows as what it is (`\u202e`, `\u200b`, `\u0430`, `\u0000`) instead of acting on
 * the text around it. JSON string escapes, so an unmasked rendering is valid JSON.
 */
const ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;
const SHORT: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const escapeChar = (c: string): string => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A string literal with everything invisible or confusable escaped (see ESCAPE). */
export function visibleString(value: string): string {
  return `"${value.replace(ESCAPE, escapeChar)}"`;
}

/** Untrusted text (an agent's stated reason, a tool name) with the same escapes, without quotes. */
export function visibleText(value: string): string {
  return value.replace(ESCAPE, escapeChar);
}

function renderText(node: string | MaskedString): string {
  if (typeof node === 'string') return visibleString(node);
  // A mask is a bare token, never inside quotes: text the agent sent cannot look like one.
  return node.m.map((part) => (typeof part === 'string' ? visibleString(part) : `[REDACTED:${visibleText(part.r)}]`)).join(' + ');
}

/**
 * The one rendering people read: indented JSON in canonical key order, strings escaped as
 * above, numbers as they go upstream (JSON's shortest round-trip form: `1e+21`, `0.30000000000000004`),
 * a masked credential as the bare token `[REDACTED:vault]` (joined to the text around it with
 * `+`). Without masks it is valid JSON and parses back to exactly the hashed arguments.
 */
export function renderArguments(node: ArgNode): string {
  const out: string[] = [];
  const write = (value: ArgNode, indent: string, depth: number): void => {
    checkDepth(depth);
    if (value === null || typeof value === 'boolean') out.push(String(value));
    else if (typeof value === 'number') out.push(numberText(value));
    else if (typeof value === 'string' || isMasked(value)) out.push(renderText(value));
    else if (Array.isArray(value)) {
      if (value.length === 0) return void out.push('[]');
      out.push('[\n');
      value.forEach((item, i) => {
        out.push(`${indent}  `);
        write(item, `${indent}  `, depth + 1);
        out.push(i < value.length - 1 ? ',\n' : '\n');
      });
      out.push(`${indent}]`);
    } else if (isObject(value)) {
      if (value.o.length === 0) return void out.push('{}');
      out.push('{\n');
      value.o.forEach(([key, member], i) => {
        out.push(`${indent}  ${renderText(key)}: `);
        write(member, `${indent}  `, depth + 1);
        out.push(i < value.o.length - 1 ? ',\n' : '\n');
      });
      out.push(`${indent}}`);
    } else throw new MalformedArgumentsError('stored arguments hold a value Gatehouse never writes');
  };
  write(node, '', 0);
  return out.join('');
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new MalformedArgumentsError('stored arguments hold a non-finite number');
  return JSON.stringify(value);
}

/**
 * Compact canonical JSON of the arguments, a mask written as the text `[REDACTED:vault]` inside
 * its string (for machine readers: webhooks, `--json`). Without masks it is exactly the text the
 * arguments hash is computed over.
 */
export function argumentsJson(node: ArgNode): string {
  const out: string[] = [];
  const plain = (value: string | MaskedString): string =>
    JSON.stringify(typeof value === 'string' ? value : value.m.map((p) => (typeof p === 'string' ? p : `[REDACTED:${p.r}]`)).join(''));
  const write = (value: ArgNode, depth: number): void => {
    checkDepth(depth);
    if (value === null || typeof value === 'boolean') out.push(String(value));
    else if (typeof value === 'number') out.push(numberText(value));
    else if (typeof value === 'string' || isMasked(value)) out.push(plain(value));
    else if (Array.isArray(value)) {
      out.push('[');
      value.forEach((item, i) => {
        if (i > 0) out.push(',');
        write(item, depth + 1);
      });
      out.push(']');
    } else if (isObject(value)) {
      out.push('{');
      value.o.forEach(([key, member], i) => {
        out.push(`${i > 0 ? ',' : ''}${plain(key)}:`);
        write(member, depth + 1);
      });
      out.push('}');
    } else throw new MalformedArgumentsError('stored arguments hold a value Gatehouse never writes');
  };
  write(node, 0);
  return out.join('');
}

/** SHA-256 of a text, in the `sha256:<base64url>` form argument hashes use. */
export function digest(text: string): string {
  return sha256(text);
}
