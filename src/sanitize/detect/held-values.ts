// The values Gatehouse holds (vault values, lease passwords, the caller's own tokens) and one
// automaton over all of them and their encodings, rebuilt lazily when the set changes.
//
// Minimum length: a held value shorter than `minLength` (default 8) is ignored. Matching
// every occurrence of a short value would mangle ordinary text ("admin", "postgres", a
// 4-digit PIN appear everywhere), and an agent can guess such a value anyway; the trade-off
// is that a short held value passes unredacted. Raise the minimum for noisy deployments,
// lower it only for values known to be random.
//
// Long values (over WHOLE_MAX code units once encoded: PEM keys, JSON key files) are not put
// in the automaton whole: chunks of CHUNK units every CHUNK_SPACING units (at most MAX_CHUNKS
// per encoding) are, and a chunk hit is extended in both directions by direct comparison. A full leak is always found; a partial
// leak is reported when it reaches `partialThreshold` of the encoded value, so the public
// boilerplate of a structured value (a PEM header, `"type": "service_account"`) alone does
// not count as a leak.

import { randomUUID } from 'node:crypto';
import { Automaton } from '../../util/aho-corasick.js';
import { heldTargets, type HeldTarget } from './held-encodings.js';
import { normalizeValue } from './text-view.js';

export const DEFAULT_MIN_HELD_LENGTH = 8;
/** How far `HeldMatcher` widens a match of a whole pattern past its hit: base64's partial character before, partial and two `=` after. */
export const WIDEN_BEFORE = 1;
export const WIDEN_AFTER = 3;
const WHOLE_MAX = 64;
const CHUNK = 24;
/**
 * A chunk every CHUNK_SPACING units (and one at the end): a partial leak of that length plus
 * a chunk is found. Very long values get at most MAX_CHUNKS chunks per encoding (wider
 * spacing), so one huge vault entry cannot blow up the automaton.
 */
const CHUNK_SPACING = 128;
const MAX_CHUNKS = 64;

export interface HeldValuesOptions {
  /** Values shorter than this (in code units, after normalization) are ignored. Default 8. */
  minLength?: number;
}

export interface HeldEntryInput {
  value: string;
  /** Placeholder type, default `vault` (`[REDACTED:vault]`). */
  type?: string;
  /** Opaque, stable id (e.g. `vault:NAME`); never derived from the value. Default: random. */
  ref?: string;
}

interface Entry {
  readonly value: string;
  readonly type: string;
  readonly ref: string;
  count: number;
}

/** @internal */
export interface CompiledTarget {
  readonly entry: number;
  readonly target: HeldTarget;
  /** Shortest extended match reported for this target (its length when it is matched whole). */
  readonly threshold: number;
}

/** @internal */
export interface CompiledPattern {
  readonly target: number;
  /** Offset of the pattern in the target text; -1 when the pattern is the whole target. */
  readonly offset: number;
}

export interface HeldMatch {
  readonly type: string;
  readonly ref: string;
  /** Offsets into the scanned text, end exclusive. */
  readonly start: number;
  readonly end: number;
}

/** Text the held matcher can read around a match: one string, or several as if joined. */
export interface ReadableText {
  readonly length: number;
  charCodeAt(i: number): number;
}

export class CompiledHeld {
  readonly version: number;
  readonly entries: readonly { type: string; ref: string }[];
  readonly ignored: number;
  /** The automaton patterns, in pattern-index order (`resolve` takes these indexes). */
  readonly patternTexts: readonly string[];
  private readonly targets: readonly CompiledTarget[];
  private readonly patterns: readonly CompiledPattern[];
  private automaton: Automaton | null = null;

  constructor(version: number, entries: readonly Entry[], minLength: number) {
    this.version = version;
    const kept: { type: string; ref: string }[] = [];
    const targets: CompiledTarget[] = [];
    const patterns: CompiledPattern[] = [];
    const texts: string[] = [];
    let ignored = 0;
    for (const entry of entries) {
      if (normalizeValue(entry.value).length < minLength) {
        ignored++;
        continue;
      }
      const entryIndex = kept.length;
      kept.push({ type: entry.type, ref: entry.ref });
      for (const t of heldTargets(entry.value)) {
        if (t.text.length < minLength) continue;
        const len = t.text.length;
        const ti = targets.length;
        if (len <= WHOLE_MAX) {
          targets.push({ entry: entryIndex, target: t, threshold: len });
          patterns.push({ target: ti, offset: -1 });
          texts.push(t.text);
          continue;
        }
        targets.push({ entry: entryIndex, target: t, threshold: Math.max(2 * CHUNK, Math.ceil(len / 4)) });
        const spacing = Math.max(CHUNK_SPACING, Math.ceil(len / MAX_CHUNKS));
        for (let offset = 0; ; offset += spacing) {
          const at = Math.min(offset, len - CHUNK);
          patterns.push({ target: ti, offset: at });
          texts.push(t.text.slice(at, at + CHUNK));
          if (at === len - CHUNK) break;
        }
      }
    }
    this.entries = kept;
    this.ignored = ignored;
    this.targets = targets;
    this.patterns = patterns;
    this.patternTexts = texts;
  }

  get patternCount(): number {
    return this.patterns.length;
  }

  /** A matcher for one scan: feed it the automaton's hits, in order of their end. */
  matcher(text: ReadableText): HeldMatcher {
    return new HeldMatcher(this, text);
  }

  /** Every held value (in any encoding) in `text` alone (tests and standalone use). */
  scan(text: string): HeldMatch[] {
    if (this.patterns.length === 0) return [];
    this.automaton ??= new Automaton(this.patternTexts);
    const m = this.matcher(text);
    this.automaton.scan(text, 0, text.length, 0, (p, end) => m.hit(p, end));
    return m.matches;
  }

  /** @internal */
  pattern(p: number): CompiledPattern {
    return this.patterns[p]!;
  }

  /**
   * Whether a hit of pattern `p` can become a match reaching outside `[hitStart - WIDEN_BEFORE,
   * hitEnd + WIDEN_AFTER)`: a chunk of a long value is extended by comparison as far as the
   * text agrees with the value; a whole pattern is only widened by base64's partial
   * characters and padding.
   */
  extends(p: number): boolean {
    return this.patterns[p]!.offset !== -1;
  }

  /** @internal */
  target(t: number): CompiledTarget {
    return this.targets[t]!;
  }
}

/**
 * Turns automaton hits into held matches: whole patterns as they are, chunks extended by
 * direct comparison, base64 cores widened by their partial characters and padding. Repeated
 * hits inside a range already reported for the same target are skipped.
 */
export class HeldMatcher {
  readonly matches: HeldMatch[] = [];
  private readonly coveredUntil = new Map<number, number>();

  constructor(
    private readonly compiled: CompiledHeld,
    private readonly text: ReadableText,
  ) {}

  hit(p: number, matchEnd: number): void {
    const pattern = this.compiled.pattern(p);
    const compiled = this.compiled.target(pattern.target);
    const target = compiled.target;
    const t = target.text;
    const text = this.text;
    const end = text.length;
    const patternLength = pattern.offset === -1 ? t.length : CHUNK;
    if ((this.coveredUntil.get(pattern.target) ?? -1) >= matchEnd) return;
    let from = pattern.offset === -1 ? 0 : pattern.offset;
    let to = from + patternLength;
    let start = matchEnd - patternLength;
    let stop = matchEnd;
    if (pattern.offset !== -1) {
      while (from > 0 && start > 0 && text.charCodeAt(start - 1) === t.charCodeAt(from - 1)) {
        from--;
        start--;
      }
      while (to < t.length && stop < end && text.charCodeAt(stop) === t.charCodeAt(to)) {
        to++;
        stop++;
      }
      if (to - from < compiled.threshold) return;
    }
    this.coveredUntil.set(pattern.target, stop);
    if (target.encoding === 'base64' || target.encoding === 'base64url') {
      // Either alphabet for the partial characters: a core without `+/-_` is the same text in
      // both, and only one of the two targets is kept.
      if (from === 0 && target.leadPartial && start > 0 && isBase64Char(text.charCodeAt(start - 1))) start--;
      if (to === t.length) {
        if (target.trailPartial && stop < end && isBase64Char(text.charCodeAt(stop))) stop++;
        for (let pad = 0; pad < 2 && stop < end && text.charCodeAt(stop) === 0x3d; pad++) stop++;
      }
    }
    const entry = this.compiled.entries[compiled.entry]!;
    this.matches.push({ type: entry.type, ref: entry.ref, start, end: stop });
  }
}

/** A character of the base64 or the base64url alphabet. */
function isBase64Char(c: number): boolean {
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) return true;
  return c === 0x2b || c === 0x2f || c === 0x2d || c === 0x5f;
}

/**
 * The set of held values. `version` changes on every effective change; the automaton is
 * rebuilt on the next `compiled()` after a change (never during a scan in progress: a scan
 * uses the compiled snapshot it started with).
 */
export class HeldValues {
  readonly minLength: number;
  private readonly entries = new Map<string, Entry>();
  private currentVersion = 0;
  private snapshot: CompiledHeld | null = null;

  constructor(options: HeldValuesOptions = {}) {
    const minLength = options.minLength ?? DEFAULT_MIN_HELD_LENGTH;
    if (!Number.isInteger(minLength) || minLength < 1) throw new RangeError('minLength must be a positive integer');
    this.minLength = minLength;
  }

  get version(): number {
    return this.currentVersion;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Holds a value (reference-counted: adding it twice needs two removes). Returns its ref.
   * The first add decides the type and ref.
   */
  add(input: string | HeldEntryInput): string {
    const { value, type, ref } = typeof input === 'string' ? { value: input, type: undefined, ref: undefined } : input;
    if (typeof value !== 'string') throw new TypeError('held value must be a string');
    const existing = this.entries.get(value);
    if (existing !== undefined) {
      existing.count++;
      return existing.ref;
    }
    const entry: Entry = { value, type: type ?? 'vault', ref: ref ?? randomUUID(), count: 1 };
    this.entries.set(value, entry);
    this.currentVersion++;
    return entry.ref;
  }

  /** Releases one hold on a value; returns false when it was not held. */
  remove(value: string): boolean {
    const existing = this.entries.get(value);
    if (existing === undefined) return false;
    if (--existing.count === 0) {
      this.entries.delete(value);
      this.currentVersion++;
    }
    return true;
  }

  /** Replaces the whole set (one version step). */
  replaceAll(values: Iterable<string | HeldEntryInput>): void {
    this.entries.clear();
    for (const input of values) {
      const { value, type, ref } = typeof input === 'string' ? { value: input, type: undefined, ref: undefined } : input;
      if (typeof value !== 'string') throw new TypeError('held value must be a string');
      const existing = this.entries.get(value);
      if (existing !== undefined) existing.count++;
      else this.entries.set(value, { value, type: type ?? 'vault', ref: ref ?? randomUUID(), count: 1 });
    }
    this.currentVersion++;
  }

  has(value: string): boolean {
    return this.entries.has(value);
  }

  /** The automaton for the current set, rebuilt if the set changed since the last call. */
  compiled(): CompiledHeld {
    if (this.snapshot === null || this.snapshot.version !== this.currentVersion) {
      this.snapshot = new CompiledHeld(this.currentVersion, [...this.entries.values()], this.minLength);
    }
    return this.snapshot;
  }
}
