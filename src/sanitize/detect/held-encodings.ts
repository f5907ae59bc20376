// The forms a held value can take in text that a tool (or an injected instruction steering
// one) produces without effort: the value itself, reversed, base64 and base64url at each of
// the three byte alignments a value can have inside a longer base64 stream, hex in either
// case, percent-encoding (every byte, encodeURIComponent, form encoding; upper- and
// lower-case hex) and JSON string escapes (JSON.stringify, with `\/`, ASCII-only with
// `\uXXXX`, and every code unit as `\uXXXX` in either case).
//
// Base64 at an alignment: the value's bytes sit at bit 8a (a = 0, 1, 2) of the stream. Only
// the characters whose 6 bits all come from the value are fixed (the "core"); the character
// before and after may mix in neighbouring bits. The core is what the automaton looks for;
// the partial characters and any `=` padding are added to the range after a match.

import { normalizeValue } from './text-view.js';

export type HeldEncoding = 'plain' | 'reversed' | 'base64' | 'base64url' | 'hex' | 'percent' | 'json';

export interface HeldTarget {
  /** The exact code units to find. */
  readonly text: string;
  readonly encoding: HeldEncoding;
  /** Base64 only: a partially determined character may precede / follow the core. */
  readonly leadPartial: boolean;
  readonly trailPartial: boolean;
}

const HEX_UPPER = '0123456789ABCDEF';
const HEX_LOWER = '0123456789abcdef';

function target(text: string, encoding: HeldEncoding, leadPartial = false, trailPartial = false): HeldTarget {
  return { text, encoding, leadPartial, trailPartial };
}

function base64Cores(bytes: Buffer, url: boolean): HeldTarget[] {
  const out: HeldTarget[] = [];
  const n = bytes.length;
  for (let a = 0; a < 3; a++) {
    const shifted = Buffer.concat([Buffer.alloc(a), bytes]);
    const encoded = shifted.toString(url ? 'base64url' : 'base64');
    const startBit = 8 * a;
    const endBit = 8 * (a + n);
    const first = Math.ceil(startBit / 6);
    const last = Math.floor(endBit / 6);
    if (last <= first) continue;
    out.push(target(encoded.slice(first, last), url ? 'base64url' : 'base64', startBit % 6 !== 0, endBit % 6 !== 0));
  }
  return out;
}

function percentAll(bytes: Buffer, hex: string): string {
  let s = '';
  for (const b of bytes) s += `%${hex[b >> 4]!}${hex[b & 15]!}`;
  return s;
}

function lowerPercentHex(s: string): string {
  return s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
}

/** application/x-www-form-urlencoded (WHATWG URLSearchParams): space as `+`, `!'()~` escaped. */
function formEncode(component: string): string {
  return component.replace(/%20/g, '+').replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function escapeUnicode(s: string, hex: string, all: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (all || c > 0x7e) {
      out += `\\u${hex[(c >> 12) & 15]!}${hex[(c >> 8) & 15]!}${hex[(c >> 4) & 15]!}${hex[c & 15]!}`;
    } else {
      out += s[i];
    }
  }
  return out;
}

/**
 * Every target for one held value, deduplicated, the plain form first. Byte encodings use the
 * value's UTF-8 bytes as given (what a tool encodes); the plain and reversed forms use the
 * normalized value (what the detectors compare against).
 */
export function heldTargets(value: string): HeldTarget[] {
  const plain = normalizeValue(value);
  const bytes = Buffer.from(value, 'utf8');
  const candidates: HeldTarget[] = [target(plain, 'plain'), target(Array.from(plain).reverse().join(''), 'reversed')];
  candidates.push(...base64Cores(bytes, false), ...base64Cores(bytes, true));
  const hexLower = bytes.toString('hex');
  candidates.push(target(hexLower, 'hex'), target(hexLower.toUpperCase(), 'hex'));
  candidates.push(target(percentAll(bytes, HEX_UPPER), 'percent'), target(percentAll(bytes, HEX_LOWER), 'percent'));
  let component: string | null = null;
  try {
    component = encodeURIComponent(value);
  } catch {
    // A lone surrogate: no URI form exists.
  }
  if (component !== null) {
    const form = formEncode(component);
    candidates.push(
      target(component, 'percent'),
      target(lowerPercentHex(component), 'percent'),
      target(form, 'percent'),
      target(lowerPercentHex(form), 'percent'),
    );
  }
  const json = JSON.stringify(value).slice(1, -1);
  candidates.push(
    target(json, 'json'),
    target(json.replace(/\//g, '\\/'), 'json'),
    target(escapeUnicode(json, HEX_LOWER, false), 'json'),
    target(escapeUnicode(value, HEX_LOWER, true), 'json'),
    target(escapeUnicode(value, HEX_UPPER, true), 'json'),
  );
  const seen = new Set<string>();
  const out: HeldTarget[] = [];
  for (const t of candidates) {
    if (t.text.length === 0 || seen.has(t.text)) continue;
    seen.add(t.text);
    out.push(t);
  }
  return out;
}
