// Rendering findings into segments. The policy (which finding gets which action, and the
// `drop` / `deny` decisions) belongs to the caller; this module only renders `mask`
// (`[REDACTED:<type>]`) and `hash` (`[HASH:<type>:<hex>]`, a keyed HMAC-SHA256 so analysts
// can correlate one value across results without seeing it).

import { createHmac, type BinaryLike, type KeyObject } from 'node:crypto';
import { normalizeValue } from './text-view.js';
import type { DetectorKind, Finding } from './types.js';

export type RenderAction = 'mask' | 'hash';
/** `keep` leaves a finding's text as it is (the caller handles it otherwise). */
export type ActionFor = RenderAction | ((finding: Finding) => RenderAction | 'keep');

export const DEFAULT_HASH_HEX_LENGTH = 12;

export interface RedactOptions {
  /** HMAC key; required when any finding is hashed. */
  hashKey?: BinaryLike | KeyObject;
  /** Hex characters of the HMAC kept in the placeholder (default 12, at most 64). */
  hashHexLength?: number;
}

export function maskPlaceholder(type: string): string {
  return `[REDACTED:${type}]`;
}

/**
 * `[HASH:<type>:<hex>]` over `value` (type-separated, so equal text of two types differs).
 * For held values pass `held:<ref>`: every encoding of one value then hashes alike.
 */
export function hashPlaceholder(type: string, value: string, key: BinaryLike | KeyObject, hexLength = DEFAULT_HASH_HEX_LENGTH): string {
  if (!Number.isInteger(hexLength) || hexLength < 1 || hexLength > 64) throw new RangeError('hashHexLength must be 1..64');
  const mac = createHmac('sha256', key).update(type).update('\u0000').update(value, 'utf8').digest('hex');
  return `[HASH:${type}:${mac.slice(0, hexLength)}]`;
}

const PRIORITY: Readonly<Record<DetectorKind, number>> = { held: 0, secret: 1, pii: 2 };

/** Which finding names a merged range: held before secret before PII, then the widest. */
function outranks(a: Finding, b: Finding): boolean {
  if (PRIORITY[a.detector] !== PRIORITY[b.detector]) return PRIORITY[a.detector] < PRIORITY[b.detector];
  return a.end - a.start > b.end - b.start;
}

/**
 * Returns the segments with every finding's range replaced. Overlapping or touching ranges
 * in a segment are merged into one placeholder. With `hash`, all pieces of a match split
 * across segments get the same placeholder (computed over the whole match).
 */
export function redact(segments: readonly string[], findings: readonly Finding[], action: ActionFor, options: RedactOptions = {}): string[] {
  const decide = typeof action === 'function' ? action : () => action;
  // The text of each logical match (all its pieces, invisible characters removed), for hashing.
  const matchText = new Map<number, string>();
  const chosen: { finding: Finding; action: RenderAction }[] = [];
  for (const f of findings) {
    const a = decide(f);
    if (a === 'keep') continue;
    if (a !== 'mask' && a !== 'hash') throw new TypeError(`unknown action ${String(a)}`);
    chosen.push({ finding: f, action: a });
  }
  if (chosen.some((c) => c.action === 'hash')) {
    if (options.hashKey === undefined) throw new TypeError('hashKey is required to hash findings');
    const pieces = [...findings].sort((x, y) => x.match - y.match || x.segment - y.segment || x.start - y.start);
    for (const f of pieces) {
      const s = segments[f.segment];
      if (s === undefined) continue;
      matchText.set(f.match, (matchText.get(f.match) ?? '') + s.slice(f.start, f.end));
    }
  }
  const render = (f: Finding, a: RenderAction): string => {
    if (a === 'mask') return maskPlaceholder(f.type);
    const value = f.detector === 'held' && f.ref !== undefined ? `held:${f.ref}` : normalizeValue(matchText.get(f.match) ?? '');
    return hashPlaceholder(f.type, value, options.hashKey!, options.hashHexLength);
  };
  const bySegment = new Map<number, { finding: Finding; action: RenderAction }[]>();
  for (const c of chosen) {
    const { segment, start, end } = c.finding;
    const s = segments[segment];
    if (s === undefined || start < 0 || end > s.length || end <= start) throw new RangeError('finding outside its segment');
    let list = bySegment.get(segment);
    if (list === undefined) bySegment.set(segment, (list = []));
    list.push(c);
  }
  const out = segments.slice();
  for (const [segment, list] of bySegment) {
    list.sort((x, y) => x.finding.start - y.finding.start || y.finding.end - x.finding.end);
    const s = segments[segment]!;
    let result = '';
    let pos = 0;
    let i = 0;
    while (i < list.length) {
      let lead = list[i]!;
      const start = lead.finding.start;
      let end = lead.finding.end;
      let j = i + 1;
      while (j < list.length && list[j]!.finding.start <= end) {
        const next = list[j]!;
        end = Math.max(end, next.finding.end);
        if (outranks(next.finding, lead.finding)) lead = next;
        j++;
      }
      result += s.slice(pos, start) + render(lead.finding, lead.action);
      pos = end;
      i = j;
    }
    out[segment] = result + s.slice(pos);
  }
  return out;
}
