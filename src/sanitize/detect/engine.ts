// The detection engine: held values, secret formats and personal data over the string
// leaves (segments) of one message.
//
// One scan:
// 1. Cap: each segment is scanned up to `perSegment` code units and the message up to
//    `perMessage`; the rest is listed in `unscanned` (the caller truncates or denies).
// 2. One automaton pass per segment finds, at once: held-value patterns (the automaton state
//    carries over from one segment to the next, so a value split across consecutive
//    segments is found), the anchors of the secret rules, the triggers of the other scanners
//    (`eyJ`, `-----BEGIN`, `@`, `:`) and the start of every digit run. A segment holding an
//    invisible or format character is rescanned as its normalized view (text-view.ts).
// 3. Only what was triggered runs on the segment: secret rules on their anchors, the JWT,
//    PEM, email and IPv6 scanners, the number checks at digit-run starts.
// 4. Held hits are resolved over the segments read as one text and reported per piece.
// Findings are mapped back to (segment, start, end) in the original strings.

import type { CountryCode } from 'libphonenumber-js/max';
import { Automaton } from '../../util/aho-corasick.js';
import { type CompiledHeld, type HeldValues, WIDEN_AFTER, WIDEN_BEFORE } from './held-values.js';
import { findJwts } from './jwt.js';
import { findPemPrivateKeys } from './pem.js';
import {
  DEFAULT_PHONE_VALIDATIONS,
  PII_KINDS,
  checkDigitRun,
  checkEmails,
  checkIpv6,
  piiFlags,
  wantsDigitRuns,
  type PhoneBudget,
  type PiiFlags,
  type PiiKind,
} from './pii-scan.js';
import { JWT_TYPE, PRIVATE_KEY_TYPE, secretTypeOf } from './secret-rules.js';
import { SecretRuleRunner, type AnchorHits, type RawReport } from './secret-runner.js';
import { JoinedText, SPECIAL_CODE_UNITS, makeView, type TextView } from './text-view.js';
import type { DetectorKind, Finding, ScanResult, Unscanned } from './types.js';

export const DEFAULT_MAX_SEGMENT_CHARS = 1 << 20;
export const DEFAULT_MAX_MESSAGE_CHARS = 4 << 20;
export const DEFAULT_PHONE_REGION: CountryCode = 'US';

export interface EngineOptions {
  /** Which detector families run (all by default). */
  detectors?: { held?: boolean; secret?: boolean; pii?: boolean };
  /** The held values; the current version is used on every scan. */
  held?: HeldValues | null;
  /** Personal-data kinds (all by default). */
  pii?: readonly PiiKind[];
  /** Region for phone numbers written without a country code. Default US. */
  phoneRegion?: CountryCode;
  /**
   * Phone validations (libphonenumber-js) per scan; past it, phone-shaped candidates are
   * reported unvalidated. Default 2,000.
   */
  phoneValidations?: number;
  /**
   * Scan caps in UTF-16 code units (the unit of scanning work; equal to bytes for ASCII).
   * Defaults: 1 Mi per segment, 4 Mi per message.
   */
  maxScanChars?: { perSegment?: number; perMessage?: number };
  /**
   * Keep what `scanAcross` needs (per-segment end states, states at quotes) with every scan.
   * Off by default: callers that read no other order pay nothing for it.
   */
  readingOrders?: boolean;
  /**
   * Dense DFA table entries of the automaton (Automaton's `denseBudget`; its default when
   * unset). Small for an engine over one caller's token, which is kept per caller.
   */
  denseBudget?: number;
}

let sharedRunner: SecretRuleRunner | null = null;

function secretRunner(): SecretRuleRunner {
  sharedRunner ??= new SecretRuleRunner();
  return sharedRunner;
}

const TRIGGERS = ['eyJ', '-----BEGIN', '@', ':'] as const;
const T_JWT = 1;
const T_PEM = 2;
const T_AT = 4;
const T_COLON = 8;

const NO_HELD = {};
const NO_QUOTES = new Int32Array(0);
const planCache = new WeakMap<object, Map<boolean, Plan>>();

interface ScanRun {
  readonly plan: Plan;
  readonly segments: readonly string[];
  /**
   * Segments not scanned as they are (normalized view, or cut at a cap). Every other segment
   * was scanned as its own string; nothing is stored per segment (a store per string into a
   * large array costs more than scanning a short string).
   */
  readonly views: Map<number, TextView>;
  readonly unscanned: Unscanned[];
  readonly out: FindingSink;
  budget: number;
  state: number;
  readonly onDigitRun: ((i: number) => void) | null;
  /** Per segment, the state a scan of the segment alone ends in, or -1 (see `AcrossBasis`). */
  readonly alone: Int32Array | null;
  /** (offset, state) at every `"` in no pattern, segment after segment; `quotesFrom[v]`: segment v's first. */
  readonly quotes: number[];
  readonly quotesFrom: Int32Array;
}

/**
 * What a scan in document order leaves for scans of the same segments read in another
 * order (`Engine.scanAcross`): the automaton and held set it used, its held hits (pattern,
 * end in the segments read as one text, by end), where each segment starts in that text,
 * each segment's length (-1: read as a normalized view, whose offsets differ) and the state
 * a scan of each segment alone ends in (-1: not known).
 */
export interface AcrossBasis {
  readonly automaton: Automaton;
  readonly held: CompiledHeld;
  readonly hits: readonly number[];
  readonly bases: Float64Array;
  readonly lengths: Int32Array;
  readonly alone: Int32Array;
  /** See `Automaton.scanFused`: the state a JSON string literal alone ends in, at its closing quote. */
  readonly quotes: readonly number[];
  readonly quotesFrom: Int32Array;
  /** Per segment, 1 when a held hit of the document scan ends inside it. */
  readonly hitIn: Uint8Array;
}

export interface DocumentScan extends ScanResult {
  /** Null when the engine holds no values. */
  readonly basis?: AcrossBasis | null;
}

/** A stretch `[from, to)` of segment `leaf` of a document scan. */
export interface PieceOf {
  readonly leaf: number;
  readonly from: number;
  readonly to: number;
}

/** One automaton for a held-value version: held patterns, then rule anchors, then triggers. */
interface Plan {
  readonly heldVersion: number;
  readonly held: CompiledHeld | null;
  readonly automaton: Automaton;
  readonly heldCount: number;
  readonly anchorCount: number;
  readonly anchorLengths: Int32Array;
}

export class Engine {
  private readonly heldOn: boolean;
  private readonly secretOn: boolean;
  private readonly piiOn: boolean;
  private readonly held: HeldValues | null;
  private readonly pii: PiiFlags;
  private readonly digitRuns: boolean;
  private readonly perSegment: number;
  private readonly perMessage: number;
  private readonly readingOrders: boolean;
  private readonly denseBudget: number | undefined;
  private plan: Plan | null = null;

  // Per-scan and per-segment scratch, reused (a scan is synchronous).
  private heldHits: number[] = [];
  private readonly anchorHits: AnchorHits = { anchor: [], at: [] };
  private triggers = 0;
  private digitStarts: number[] = [];
  private digitCount = 0;
  private heldBase = 0;
  private current: Plan | null = null;
  private readonly phoneBudget: PhoneBudget = { left: 0 };
  private readonly phoneValidations: number;
  private segment = 0;
  private segmentMap: Int32Array | null = null;
  private segmentText = '';
  private sink: FindingSink | null = null;

  constructor(options: EngineOptions = {}) {
    this.heldOn = options.detectors?.held ?? true;
    this.secretOn = options.detectors?.secret ?? true;
    this.piiOn = options.detectors?.pii ?? true;
    this.held = options.held ?? null;
    this.pii = piiFlags({ kinds: new Set(options.pii ?? PII_KINDS), phoneRegion: options.phoneRegion ?? DEFAULT_PHONE_REGION });
    this.digitRuns = this.piiOn && wantsDigitRuns(this.pii);
    this.phoneValidations = options.phoneValidations ?? DEFAULT_PHONE_VALIDATIONS;
    this.perSegment = options.maxScanChars?.perSegment ?? DEFAULT_MAX_SEGMENT_CHARS;
    this.perMessage = options.maxScanChars?.perMessage ?? DEFAULT_MAX_MESSAGE_CHARS;
    this.readingOrders = options.readingOrders === true;
    this.denseBudget = options.denseBudget;
    for (const [name, value] of [
      ['perSegment', this.perSegment],
      ['perMessage', this.perMessage],
    ] as const) {
      if (!Number.isInteger(value) || value < 0) throw new RangeError(`maxScanChars.${name} must be a non-negative integer`);
    }
  }

  /**
   * Builds the automaton for the current held set now (it is otherwise built by the first
   * scan after a change, about 150–300 ms for 1,000 values): call it after changing the set to
   * keep the rebuild off the request path.
   */
  prepare(): void {
    this.currentPlan();
  }

  /** The automaton for the current held set (rebuilt when the set changed). */
  private currentPlan(): Plan {
    const heldOn = this.heldOn && this.held !== null;
    const version = heldOn ? this.held!.version : -1;
    if (this.plan !== null && this.plan.heldVersion === version) return this.plan;
    const held = heldOn ? this.held!.compiled() : null;
    // Engines sharing a held set (and the same secret setting) share its automaton.
    const key = held ?? NO_HELD;
    let cached = planCache.get(key);
    if (cached === undefined) planCache.set(key, (cached = new Map()));
    // An engine without secret rules can scan with the automaton that also holds their
    // anchors: the held patterns come first and keep their numbers, the anchors' hits are
    // ignored without the rules. One automaton per held set instead of two (tens of MB for
    // a thousand held values).
    let plan = cached.get(this.secretOn) ?? (this.secretOn ? undefined : cached.get(true));
    if (plan === undefined) {
      const heldTexts = held?.patternTexts ?? [];
      const anchors = this.secretOn ? secretRunner().anchors : [];
      plan = {
        heldVersion: version,
        held,
        automaton: new Automaton([...heldTexts, ...anchors, ...TRIGGERS], {
          digitClasses: true,
          ...(this.denseBudget === undefined ? {} : { denseBudget: this.denseBudget }),
        }),
        heldCount: heldTexts.length,
        anchorCount: anchors.length,
        anchorLengths: Int32Array.from(anchors, (x) => x.length),
      };
      cached.set(this.secretOn, plan);
    }
    this.plan = plan.heldVersion === version ? plan : { ...plan, heldVersion: version };
    return this.plan;
  }

  private readonly onMatch = (p: number, end: number): void => {
    const plan = this.current!;
    if (p < plan.heldCount) {
      this.heldHits.push(p, this.heldBase + end);
      return;
    }
    const a = p - plan.heldCount;
    if (a < plan.anchorCount) {
      this.anchorHits.anchor.push(a);
      this.anchorHits.at.push(end - plan.anchorLengths[a]!);
      return;
    }
    this.triggers |= 1 << (a - plan.anchorCount);
  };

  private readonly onDigitRun = (i: number): void => {
    this.digitStarts[this.digitCount++] = i;
  };

  private readonly onSecret = (type: string, start: number, end: number): void => {
    this.sink!.add(this.segment, this.segmentMap, this.segmentText, 'secret', type, start, end);
  };

  private readonly onJwt = (start: number, end: number): void => this.onSecret(JWT_TYPE, start, end);

  private readonly onPem = (start: number, end: number): void => this.onSecret(PRIVATE_KEY_TYPE, start, end);

  private readonly onPii = (type: string, start: number, end: number): void => {
    this.sink!.add(this.segment, this.segmentMap, this.segmentText, 'pii', type, start, end);
  };

  private resetSegment(): void {
    if (this.anchorHits.anchor.length !== 0) {
      this.anchorHits.anchor = [];
      this.anchorHits.at = [];
    }
    this.triggers = 0;
    this.digitCount = 0;
  }

  /**
   * Held values across `pieces` (stretches of `segments`, the segments of the document scan
   * `basis` came from) read as one text: the same findings as `scan` of the pieces' texts.
   * The automaton hits are the same too, gathered in two parts: the hits that begin in an
   * earlier piece, by reading each piece only until its state stands for text inside the
   * piece alone (Automaton.scanAcross), and the hits inside one piece, taken from the document
   * scan (which reported every occurrence inside every segment). Falls back to that scan when
   * a piece's segment was read as a normalized view.
   */
  scanAcross(segments: readonly string[], pieces: readonly PieceOf[], basis: AcrossBasis | null | undefined): ScanResult {
    const flat: number[] = [];
    for (const p of pieces) flat.push(p.leaf, p.from, p.to);
    return this.scanAcrossFlat(segments, flat, 0, pieces.length, basis);
  }

  /**
   * `scanAcross` of pieces `[first, last)` of `pieces`, written flat (piece k is `pieces[3k]`
   * (segment), `pieces[3k + 1]` (from), `pieces[3k + 2]` (to)); findings name pieces relative
   * to `first`. Nothing is allocated per piece unless a held hit is found in the chunk.
   */
  scanAcrossFlat(segments: readonly string[], pieces: ArrayLike<number>, first: number, last: number, basis: AcrossBasis | null | undefined): ScanResult {
    const plan = this.currentPlan();
    if (basis === null || basis === undefined || plan.held === null || plan.held !== basis.held || plan.automaton !== basis.automaton) {
      return this.scan(flatPieceTexts(segments, pieces, first, last));
    }
    const doc = basis;
    const automaton = plan.automaton;
    const lengths = automaton.lengths;
    const heldCount = plan.heldCount;
    const hitIn = doc.hitIn;
    const quoteFree = automaton.classOfCode(0x22) === 0;
    const quotes = doc.quotes;
    const hits: number[] = [];
    const head: number[] = [];
    const onMatch = (p: number, end: number): void => {
      // Only what begins before the piece: the rest comes from the document scan.
      if (p < heldCount && lengths[p]! > end) head.push(p, end);
    };
    let state = 0;
    let base = 0;
    let crossing = false;
    // Where the last piece's closing quote was found: the next piece's is usually just after.
    let hintLeaf = -1;
    let hint = 0;
    for (let j = first; j < last; j++) {
      const leaf = pieces[3 * j]!;
      const from = pieces[3 * j + 1]!;
      const to = pieces[3 * j + 2]!;
      const text = segments[leaf]!;
      const leafLength = doc.lengths[leaf];
      if (leafLength === undefined || leafLength < 0 || from < 0 || from > to || to > leafLength || text.length !== leafLength) {
        // A piece of a segment read as a normalized view (other offsets): read the chunk whole.
        return this.scan(flatPieceTexts(segments, pieces, first, last));
      }
      let alone = -1;
      if (from === 0 && to === leafLength) alone = doc.alone[leaf]!;
      else if (quoteFree && from > 0 && text.charCodeAt(from - 1) === 0x22 && text.charCodeAt(to) === 0x22) {
        // A piece between two `"` in no pattern (a JSON string literal): a scan of it alone ends
        // in the document scan's state at its closing quote (the opening one sent it to the start state).
        const start = doc.quotesFrom[leaf]! >> 1;
        const end = doc.quotesFrom[leaf + 1]! >> 1;
        // The hint only when every record before it lies before this piece's end.
        const at = quoteAt(quotes, leaf === hintLeaf && (hint === start || quotes[2 * (hint - 1)]! < to) ? hint : start, end, to);
        hintLeaf = leaf;
        hint = at;
        if (at < end && quotes[2 * at] === to) alone = quotes[2 * at + 1]!;
      }
      if (head.length !== 0) head.length = 0;
      state = automaton.scanAcross(text, from, to, state, onMatch, alone);
      // Without hits of its own or from the document scan in its segment a piece adds none.
      if (head.length !== 0 || hitIn[leaf] === 1) {
        if (mergeHits(hits, head, doc, leaf, from, to, base, lengths)) crossing = true;
      }
      base += to - from;
    }
    // Only a match across pieces is new here. Without a hit that begins in an earlier piece or
    // one whose match may reach past its own piece, every match lies inside one piece, where
    // the document scan found it already: nothing to resolve.
    if (hits.length === 0 || !crossing) return { findings: [], capped: false, unscanned: [] };
    const texts = flatPieceTexts(segments, pieces, first, last);
    const out = new FindingSink(texts);
    const joined = new JoinedText(texts);
    const matcher = doc.held.matcher(joined);
    for (let k = 0; k < hits.length; k += 2) matcher.hit(hits[k]!, hits[k + 1]!);
    const maps = texts.map(() => null);
    for (const m of matcher.matches) out.addSpanning(texts, maps, joined, 'held', m.type, m.start, m.end, m.ref);
    const findings = out.findings;
    findings.sort((x, y) => x.segment - y.segment || x.start - y.start || x.end - y.end || x.match - y.match);
    return { findings, capped: false, unscanned: [] };
  }

  /**
   * Scans the segments in document order. With `readingOrders`, `basis` is what `scanAcross`
   * reads the same segments in other orders with.
   */
  scan(segments: readonly string[]): DocumentScan {
    const plan = this.currentPlan();
    const run: ScanRun = {
      plan,
      segments,
      views: new Map(),
      unscanned: [],
      out: new FindingSink(segments),
      budget: this.perMessage,
      state: 0,
      onDigitRun: this.digitRuns ? this.onDigitRun : null,
      alone: this.readingOrders && plan.held !== null ? new Int32Array(segments.length) : null,
      quotes: [],
      quotesFrom: this.readingOrders ? new Int32Array(segments.length + 1) : NO_QUOTES,
    };
    this.current = plan;
    this.sink = run.out;
    this.heldHits = [];
    this.heldBase = 0;
    this.phoneBudget.left = this.phoneValidations;
    try {
      for (let v = 0; v < segments.length; v++) this.scanSegment(run, v);
      this.resolveHeld(run);
    } finally {
      this.current = null;
      this.sink = null;
      this.segmentMap = null;
      this.segmentText = '';
    }
    const findings = run.out.findings;
    findings.sort((x, y) => x.segment - y.segment || x.start - y.start || x.end - y.end || x.match - y.match);
    return {
      findings,
      capped: run.unscanned.length > 0,
      unscanned: run.unscanned,
      basis: run.alone === null ? null : this.basisOf(run, run.alone),
    };
  }

  private basisOf(run: ScanRun, alone: Int32Array): AcrossBasis {
    const n = run.segments.length;
    const lengths = new Int32Array(n);
    const bases = new Float64Array(n);
    let base = 0;
    for (let v = 0; v < n; v++) {
      const view = run.views.get(v);
      bases[v] = base;
      lengths[v] = view === undefined ? run.segments[v]!.length : -1;
      base += view === undefined ? run.segments[v]!.length : view.text.length;
    }
    run.quotesFrom[n] = run.quotes.length;
    const hitIn = new Uint8Array(n);
    const hits = this.heldHits;
    // Hits are sorted by end; a hit ending at a segment's start belongs to the one before.
    for (let k = 1, v = 0; k < hits.length && n > 0; k += 2) {
      const end = hits[k]!;
      while (v + 1 < n && bases[v + 1]! < end) v++;
      hitIn[v] = 1;
    }
    return { automaton: run.plan.automaton, held: run.plan.held!, hits, bases, lengths, alone, quotes: run.quotes, quotesFrom: run.quotesFrom, hitIn };
  }

  // The per-segment work is its own small method on purpose: V8 then optimizes it as a
  // whole, instead of entering one long `scan` on stack at every call and leaving it again.
  private scanSegment(run: ScanRun, v: number): void {
    const s = run.segments[v];
    if (typeof s !== 'string') throw new TypeError(`segment ${v} is not a string`);
    const limit = Math.min(s.length, this.perSegment, run.budget);
    run.budget -= limit;
    if (limit < s.length) run.unscanned.push({ segment: v, from: limit });

    // 2. One pass; a rescan of the normalized view if the text needs one.
    this.resetSegment();
    const automaton = run.plan.automaton;
    const heldMark = this.heldHits.length;
    let text = limit === s.length ? s : s.slice(0, limit);
    let map: Int32Array | null = null;
    const quoteMark = run.quotes.length;
    if (run.alone !== null) run.quotesFrom[v] = quoteMark;
    let next = automaton.scanFused(text, 0, limit, run.state, this.onMatch, run.onDigitRun, SPECIAL_CODE_UNITS, run.alone === null ? null : run.quotes);
    if (next < 0) {
      this.heldHits.length = heldMark;
      run.quotes.length = quoteMark;
      this.resetSegment();
      const view = makeView(s, limit);
      text = view.text;
      map = view.map;
      next = automaton.scanFused(text, 0, text.length, run.state, this.onMatch, run.onDigitRun, null);
    }
    run.state = next;
    if (text !== s) run.views.set(v, { text, map });
    else if (run.alone !== null) run.alone[v] = automaton.aloneEnd(next, limit);
    this.heldBase += text.length;

    // 3. What was triggered (nothing, for most strings).
    if (this.triggers !== 0 || this.digitCount !== 0 || this.anchorHits.anchor.length !== 0) {
      this.segment = v;
      this.segmentMap = map;
      this.segmentText = text;
      this.segmentDetectors(text);
    }
  }

  // 4. Held values: the hits, resolved over the segments read as one text.
  private resolveHeld(run: ScanRun): void {
    const held = run.plan.held;
    if (held === null || this.heldHits.length === 0) return;
    const texts: string[] = [];
    const maps: (Int32Array | null)[] = [];
    for (let v = 0; v < run.segments.length; v++) {
      const view = run.views.get(v);
      texts.push(view?.text ?? run.segments[v]!);
      maps.push(view?.map ?? null);
    }
    const joined = new JoinedText(texts);
    const matcher = held.matcher(joined);
    const hits = this.heldHits;
    for (let k = 0; k < hits.length; k += 2) matcher.hit(hits[k]!, hits[k + 1]!);
    for (const m of matcher.matches) run.out.addSpanning(texts, maps, joined, 'held', m.type, m.start, m.end, m.ref);
  }

  private segmentDetectors(text: string): void {
    const triggers = this.triggers;
    if (this.secretOn) {
      if (this.anchorHits.anchor.length > 0) {
        const reports: RawReport[] = [];
        secretRunner().runSegment(text, this.anchorHits, reports);
        if (reports.length > 0) {
          const seen = new Set<string>();
          for (const r of reports) {
            const type = secretTypeOf(r.ruleId, r.messageId);
            const key = `${type}|${r.start}|${r.end}`;
            if (seen.has(key)) continue;
            seen.add(key);
            this.onSecret(type, r.start, r.end);
          }
        }
      }
      if ((triggers & T_JWT) !== 0) findJwts(text, 0, text.length, this.onJwt);
      if ((triggers & T_PEM) !== 0) findPemPrivateKeys(text, 0, text.length, this.onPem);
    }
    if (this.piiOn) {
      if ((triggers & T_AT) !== 0) checkEmails(text, this.pii, this.onPii);
      if ((triggers & T_COLON) !== 0) checkIpv6(text, this.pii, this.onPii);
      if (this.digitRuns) {
        const starts = this.digitStarts;
        for (let k = 0; k < this.digitCount; k++) checkDigitRun(text, starts[k]!, text.length, this.pii, this.phoneBudget, this.onPii);
      }
    }
  }
}

/**
 * The first quote record at index `from` or later (records `[from, end)`, sorted by offset)
 * whose offset is at least `to`, searched forward from a nearby hint (exponential, then binary search).
 */
function quoteAt(quotes: readonly number[], from: number, end: number, to: number): number {
  // Gallop: the bound doubles until it passes `to`, then binary search below it.
  let lo = from;
  let step = 1;
  while (lo < end && quotes[2 * lo]! < to) {
    const probe = lo + step;
    if (probe >= end || quotes[2 * probe]! >= to) {
      let hi = Math.min(probe, end);
      lo++;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (quotes[2 * mid]! < to) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
    lo = probe + 1;
    step *= 2;
  }
  return lo;
}

function flatPieceTexts(segments: readonly string[], pieces: ArrayLike<number>, first: number, last: number): string[] {
  const out: string[] = new Array(last - first);
  for (let j = first; j < last; j++) out[j - first] = segments[pieces[3 * j]!]!.slice(pieces[3 * j + 1]!, pieces[3 * j + 2]!);
  return out;
}

/**
 * Appends to `hits` (pattern, end in the pieces read as one text) the hits of one piece in
 * the order a scan of the pieces would report them: by end, and at one end the hits that
 * begin before the piece (`head`, piece-relative ends, longer) before those inside it (from
 * the document scan, whose hits are sorted by end). Returns whether any of them may become a
 * match across pieces: a hit in `head`, or one inside the piece whose match the held matcher
 * may widen or extend past the piece's ends.
 */
function mergeHits(
  hits: number[],
  head: readonly number[],
  basis: AcrossBasis,
  leaf: number,
  pieceFrom: number,
  pieceTo: number,
  base: number,
  lengths: Int32Array,
): boolean {
  let crossing = head.length !== 0;
  const doc = basis.hits;
  const from = basis.bases[leaf]! + pieceFrom;
  const to = basis.bases[leaf]! + pieceTo;
  // First document hit ending after `from` (hits are pairs; binary search over pairs).
  let lo = 0;
  let hi = doc.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (doc[2 * mid + 1]! <= from) lo = mid + 1;
    else hi = mid;
  }
  let h = 0;
  for (let k = 2 * lo; k < doc.length && doc[k + 1]! <= to; k += 2) {
    const p = doc[k]!;
    const end = doc[k + 1]!;
    const start = end - lengths[p]!;
    if (start < from) continue; // begins before the piece in document order
    if (!crossing && (start - WIDEN_BEFORE < from || end + WIDEN_AFTER > to || basis.held.extends(p))) crossing = true;
    const rel = end - from;
    while (h < head.length && head[h + 1]! <= rel) {
      hits.push(head[h]!, base + head[h + 1]!);
      h += 2;
    }
    hits.push(p, base + rel);
  }
  for (; h < head.length; h += 2) hits.push(head[h]!, base + head[h + 1]!);
  return crossing;
}

/**
 * The original offset just after view character `j - 1`: a match ends where its last
 * character ends, not where the next kept one starts (invisible characters that follow it
 * stay outside the range). A folded tag character spans two code units of the original.
 */
function endOffset(map: Int32Array, original: string, view: string, j: number): number {
  if (j === 0) return map[0]!;
  const o = map[j - 1]!;
  const c = original.charCodeAt(o);
  return o + (c >= 0xd800 && c <= 0xdbff && view.charCodeAt(j - 1) !== c ? 2 : 1);
}

class FindingSink {
  constructor(private readonly segments: readonly string[]) {}

  readonly findings: Finding[] = [];
  private nextMatch = 0;

  /** A finding inside one segment; offsets are offsets into `view` (`map`: see TextView). */
  add(segment: number, map: Int32Array | null, view: string, detector: DetectorKind, type: string, start: number, end: number): void {
    if (end <= start) return;
    this.findings.push({
      type,
      detector,
      segment,
      start: map === null ? start : map[start]!,
      end: map === null ? end : endOffset(map, this.segments[segment]!, view, end),
      match: this.nextMatch++,
    });
  }

  /** A match of the joined views: one finding per segment it covers, sharing `match`. */
  addSpanning(
    texts: readonly string[],
    maps: readonly (Int32Array | null)[],
    joined: JoinedText,
    detector: DetectorKind,
    type: string,
    start: number,
    end: number,
    ref: string,
  ): void {
    if (end <= start) return;
    let lo = 0;
    let hi = texts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (joined.base(mid) <= start) lo = mid;
      else hi = mid - 1;
    }
    const match = this.nextMatch++;
    for (let v = lo; v < texts.length && joined.base(v) < end; v++) {
      const map = maps[v]!;
      const base = joined.base(v);
      const from = Math.max(start, base) - base;
      const to = Math.min(end, base + texts[v]!.length) - base;
      if (to <= from) continue;
      const f: Finding = { type, detector, segment: v, start: from, end: to, match, ref };
      if (map !== null) {
        f.start = map[from]!;
        f.end = endOffset(map, this.segments[v]!, texts[v]!, to);
      }
      this.findings.push(f);
    }
  }
}
