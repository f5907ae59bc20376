// The one exit point's engine: every message bound for an MCP client (tool results, errors,
// notifications, server→client requests, list results) is walked once, its string leaves
// scanned by the detection engine (held credentials and their encodings, secret formats,
// personal data), and each finding handled by the action its type has for the data's
// classification.

import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { CountryCode } from 'libphonenumber-js/max';
import { ActionTable } from './action-table.js';
import type { Classification } from './classification.js';
import { SANITIZE_DEFAULTS, type OutputAction } from './config-schema.js';
import { Engine, HeldValues, redact, type Finding, type PiiKind } from './detect/index.js';
import { OutputRefusedError, SanitizeError } from './errors.js';
import { collectLeaves, rebuild, type Leaf } from './leaves.js';
import { emptyReport, reportIsNotable, type RedactionReport } from './report.js';
import { escapedLiterals, unescapedLiterals, widenOverEscapes } from './json-unescape.js';
import { splitChunksFlat, type DerivedLiterals } from './split-streams.js';

/**
 * What an outbound message is: held credentials never go out, whatever the channel; which
 * action applies to other findings depends on the data's classification.
 */
export type Channel =
  /** The result of a request of `method` (unknown when the request was not seen). */
  | { kind: 'result'; method: string | undefined }
  /** A JSON-RPC error response. */
  | { kind: 'error'; method: string | undefined }
  /** A notification Gatehouse sends (progress, log message, list_changed, resource updated). */
  | { kind: 'notification'; method: string }
  /** A request Gatehouse sends to the client (sampling, elicitation, roots). */
  | { kind: 'request'; method: string }
  /** A body the HTTP front door writes itself (refusals before any JSON-RPC handling). */
  | { kind: 'http-error' };

/** Facts about the exchange a message belongs to. */
export interface SanitizeScope {
  /**
   * Credentials of the HTTP requests the message answers: the caller's access token (bearer
   * or DPoP-bound). A server that echoes what it was sent must not hand the agent its token.
   */
  readonly credentials?: readonly string[] | undefined;
  /** Classification of the data (default: `sanitize.defaultClassification`). */
  readonly classification?: Classification | undefined;
  /** Receives the report of this message (the caller records it); otherwise `onReport` does. */
  readonly report?: ((report: RedactionReport) => void) | undefined;
}

/**
 * The one point every byte bound for an MCP client passes through. Returns the message with
 * what must not leave replaced, or the message itself when nothing did. Throws `SanitizeError`
 * when a message cannot be checked and `OutputRefusedError` when a `deny` action fires; the
 * caller must then withhold the message.
 */
export interface Sanitizer {
  sanitize<T>(message: T, channel: Channel, scope?: SanitizeScope): T;
}

/** Redaction type of the caller's own access token. */
export const CALLER_CREDENTIAL_TYPE = 'access_token';
/** Redaction type of a credential Gatehouse holds (vault values, lease passwords, config literals). */
export const HELD_TYPE = 'vault';

export interface OutputSanitizerOptions {
  detectors?: { secrets?: boolean; pii?: boolean };
  pii?: readonly PiiKind[];
  phoneRegion?: string;
  actions?: ActionTable;
  /** HMAC key of `hash` placeholders; random per process when absent. */
  hashKey?: KeyObject;
  defaultClassification?: Classification;
  maxScanChars?: number;
  maxSegmentChars?: number;
  /** Reports of messages whose scope has no `report` callback, when something happened. */
  onReport?: (report: RedactionReport) => void;
  /**
   * Read every piece of the other reading orders whole (the reference the differential tests
   * compare the default against) instead of only as far as a value that began in an earlier
   * piece can reach. Same findings, slower.
   * @internal
   */
  wholeReadingOrders?: boolean;
}

const SCOPED_CACHE = 64;
/**
 * Dense table of a caller's engine: 16 Ki entries (64 kB). A token's automaton has a few
 * thousand states; fully dense it took ~0.7 MB per caller, and scanned no faster on the same
 * text (the shallow rows are where text spends its steps).
 */
const SCOPED_DENSE_BUDGET = 1 << 14;
/** How far into each string a credential split across strings read in another order is looked for. */
const SPLIT_REACH = 512;
const UNCAPPED = { perSegment: Number.MAX_SAFE_INTEGER, perMessage: Number.MAX_SAFE_INTEGER };
/** MCP members that carry base64 (resource `blob`, image and audio `data`). */
const BASE64_MEMBERS = new Set(['blob', 'data']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function channelName(channel: Channel): { name: string; method: string | undefined } {
  return { name: channel.kind, method: channel.kind === 'http-error' ? undefined : channel.method };
}

/** A base64 member decoded to text, scanned as one more segment (secrets and PII inside files). */
interface Decoded {
  leaf: number;
  segment: number;
}

/** A literal of JSON text read with one level of escaping removed (see `unescapedLiterals`). */
interface Derived {
  segment: number;
  parent: number;
  map: Int32Array;
}

/** How many levels of JSON text inside JSON strings are read unescaped. */
const MAX_UNESCAPE_DEPTH = 3;

/** A finding in a derived segment, moved to the raw characters it was read from. */
function toRaw(f: Finding, derived: ReadonlyMap<number, Derived>): Finding {
  let out = f;
  for (let d = derived.get(out.segment); d !== undefined; d = derived.get(out.segment)) {
    out = { ...out, segment: d.parent, start: d.map[out.start]!, end: d.map[out.end]! };
  }
  return out;
}

export class OutputSanitizer implements Sanitizer {
  readonly held: HeldValues;
  #engine!: Engine;
  #heldEngine!: Engine;
  #actions!: ActionTable;
  #hashKey!: KeyObject;
  #defaultClassification!: Classification;
  #maxScan!: number;
  #maxSegment!: number;
  #onReport: ((report: RedactionReport) => void) | undefined;
  #wholeReadingOrders = false;
  /** Engines over callers' credentials, by credential list (a session presents the same token many times). */
  readonly #scoped = new Map<string, Engine>();
  /** Results the pipeline's stage already checked, by configuration generation and held version. */
  readonly #checked = new WeakMap<object, string>();
  #generation = 0;
  #prepareQueued = false;

  constructor(held: HeldValues, options: OutputSanitizerOptions = {}) {
    this.held = held;
    this.configure(options);
  }

  /** Applies a configuration (at start-up and reload); the automaton is rebuilt on the next message. */
  configure(options: OutputSanitizerOptions): void {
    this.#engine = new Engine({
      held: this.held,
      detectors: { held: true, secret: options.detectors?.secrets ?? true, pii: options.detectors?.pii ?? true },
      pii: options.pii ?? SANITIZE_DEFAULTS.pii,
      phoneRegion: (options.phoneRegion ?? SANITIZE_DEFAULTS.phoneRegion) as CountryCode,
      // The walker cuts to the scan limits itself.
      maxScanChars: UNCAPPED,
      readingOrders: true,
    });
    this.#heldEngine = new Engine({ held: this.held, detectors: { held: true, secret: false, pii: false }, maxScanChars: UNCAPPED });
    this.#actions = options.actions ?? new ActionTable();
    this.#hashKey = options.hashKey ?? createSecretKey(randomBytes(32));
    this.#defaultClassification = options.defaultClassification ?? SANITIZE_DEFAULTS.defaultClassification;
    this.#maxScan = options.maxScanChars ?? 4 << 20;
    this.#maxSegment = options.maxSegmentChars ?? 1 << 20;
    this.#onReport = options.onReport;
    this.#wholeReadingOrders = options.wholeReadingOrders === true;
    this.#generation++;
  }

  /** Rebuilds the automaton now, off the request path (after the held set changed). */
  prepareSoon(): void {
    if (this.#prepareQueued) return;
    this.#prepareQueued = true;
    setImmediate(() => {
      this.#prepareQueued = false;
      this.#engine.prepare();
      this.#heldEngine.prepare();
    }).unref();
  }

  sanitize<T>(message: T, channel: Channel, scope: SanitizeScope = {}): T {
    const { name, method } = channelName(channel);
    const classification = scope.classification ?? this.#defaultClassification;
    const report = emptyReport(name, method, classification);
    const emit = (): void => {
      if (scope.report) scope.report(report);
      else if (this.#onReport && reportIsNotable(report)) this.#onReport(report);
    };
    try {
      const skipHeld = this.#alreadyChecked(message, channel);
      const credentials = scope.credentials?.filter((c) => c.length >= 8) ?? [];
      const out = this.#run(message, skipHeld, credentials, classification, report);
      if (channel.kind === 'result' && out !== null && typeof out === 'object' && !('jsonrpc' in out)) {
        // A bare result (the pipeline stage): the transport need not scan it again.
        this.#checked.set(out, this.#stamp());
      }
      emit();
      return out;
    } catch (error) {
      if (error instanceof OutputRefusedError) {
        report.outcome = 'denied';
        report.reason = String(error.reason);
      } else {
        report.outcome = 'failed';
        report.reason = error instanceof SanitizeError ? 'unscannable' : 'detector_error';
      }
      emit();
      if (error instanceof OutputRefusedError || error instanceof SanitizeError) throw error;
      throw new SanitizeError('Gatehouse withheld a message it could not check for credentials and personal data.', { cause: error });
    }
  }

  #stamp(): string {
    return `${this.#generation}:${this.held.version}`;
  }

  /** A JSON-RPC response whose result the pipeline already checked, with the current set and rules. */
  #alreadyChecked(message: unknown, channel: Channel): boolean {
    if (channel.kind !== 'result' || message === null || typeof message !== 'object' || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') return false;
    const result = (message as { result?: unknown }).result;
    if (result === null || typeof result !== 'object') return false;
    if (this.#checked.get(result) !== this.#stamp()) return false;
    // The envelope holds only `jsonrpc` and the client's own id besides the checked result.
    return Object.keys(message).every((k) => k === 'result' || k === 'jsonrpc' || k === 'id');
  }

  #scopedEngine(credentials: readonly string[]): Engine {
    const key = credentials.join('\n');
    let engine = this.#scoped.get(key);
    if (engine) {
      // Most recently used last: the first key is the one to evict.
      this.#scoped.delete(key);
    } else {
      const held = new HeldValues();
      for (const value of credentials) held.add({ value, type: CALLER_CREDENTIAL_TYPE, ref: 'caller' });
      engine = new Engine({
        held,
        detectors: { held: true, secret: false, pii: false },
        maxScanChars: UNCAPPED,
        readingOrders: true,
        denseBudget: SCOPED_DENSE_BUDGET,
      });
      if (this.#scoped.size >= SCOPED_CACHE) this.#scoped.delete(this.#scoped.keys().next().value as string);
    }
    this.#scoped.set(key, engine);
    return engine;
  }

  #run<T>(message: T, skipMain: boolean, credentials: readonly string[], classification: Classification, report: RedactionReport): T {
    if (skipMain && credentials.length === 0) return message;
    if (message === null || (typeof message !== 'object' && typeof message !== 'string')) return message;
    // Numbers (JSON numbers, not strings) are collected in the same walk, as JSON writes them.
    const numbers: string[] | undefined = skipMain ? undefined : [];
    const leaves: Leaf[] = typeof message === 'string' ? [{ text: message, key: false, member: undefined, shape: 0 }] : collectLeaves(message, numbers);
    if (leaves.length === 0) return message;

    // Cut to the scan limits first: what is past them is never scanned, so never relayed.
    const segments: string[] = new Array(leaves.length);
    const cut = new Map<number, number>();
    let budget = this.#maxScan;
    for (let i = 0; i < leaves.length; i++) {
      const text = leaves[i]!.text;
      const limit = Math.min(text.length, this.#maxSegment, budget);
      budget -= limit;
      if (limit < text.length) {
        cut.set(i, text.length - limit);
        segments[i] = text.slice(0, limit);
      } else {
        segments[i] = text;
      }
    }
    // Base64 members that decode to text are scanned as text too.
    const decoded: Decoded[] = [];
    for (let i = 0; i < leaves.length && !skipMain; i++) {
      const leaf = leaves[i]!;
      const text = segments[i]!;
      if (leaf.key || leaf.member === undefined || !BASE64_MEMBERS.has(leaf.member) || cut.has(i)) continue;
      if (text.length < 8 || text.length % 4 !== 0 || text.length > budget * 4 || !BASE64.test(text)) continue;
      let plain: string;
      try {
        plain = UTF8.decode(Buffer.from(text, 'base64'));
      } catch {
        continue; // binary (an image): held values are still found in their base64 forms
      }
      budget -= plain.length;
      decoded.push({ leaf: i, segment: segments.length });
      segments.push(plain);
    }

    // JSON text inside a string of JSON text: its literals read with one level of escaping
    // removed (and theirs, a few levels down), found values mapped back to the raw characters.
    const derived: Derived[] = [];
    const derivedOf = new Map<number, DerivedLiterals>();
    if (!skipMain || credentials.length > 0) {
      const depth: number[] = [];
      for (let s = 0; s < segments.length; s++) {
        const level = s < leaves.length ? 0 : (depth[s] ?? 0);
        if (level >= MAX_UNESCAPE_DEPTH || segments[s]!.indexOf('\\') < 0) continue;
        // Not charged to the scan budget: a message that spends it on raw text must not have its
        // escaped literals go unread. Each level is shorter than the one it is read from, so
        // the extra work is bounded by MAX_UNESCAPE_DEPTH times the text scanned.
        const literals = unescapedLiterals(segments[s]!);
        if (literals.length > 0) derivedOf.set(s, { first: segments.length, count: literals.length });
        // Without JSON text inside, the literals with a `\n`-like escape are read without it
        // (not in the reading orders: the raw literals' orders join them already).
        for (const u of literals.length > 0 ? literals : escapedLiterals(segments[s]!)) {
          depth[segments.length] = level + 1;
          derived.push({ segment: segments.length, parent: s, map: u.map });
          segments.push(u.text);
        }
      }
    }

    // The numbers, one segment each after the rest: the same digits in a text item are scanned
    // as text. Not charged to the scan budget (a number is at most a few dozen characters, and
    // one past the limit would go out unread).
    const numberOf = new Map<number, number>();
    for (const [j, text] of (numbers ?? []).entries()) {
      numberOf.set(segments.length, j);
      segments.push(text);
    }

    let findings: Finding[] = [];
    let nextMatch = 0;
    // `pieces`, flat from piece `first` on (see FlatChunks): what the findings' segments name.
    const add = (found: readonly Finding[], pieces?: ArrayLike<number>, first = 0): void => {
      if (found.length === 0) return;
      const base = nextMatch;
      // In another reading order only matches across pieces are new (the rest were found whole).
      const across = pieces === undefined ? undefined : crossingMatches(found);
      for (const f of found) {
        if (across !== undefined && !across.has(f.match)) continue;
        const match = base + f.match;
        nextMatch = Math.max(nextMatch, match + 1);
        if (pieces === undefined) findings.push(f.match === match ? f : { ...f, match });
        else {
          const k = 3 * (first + f.segment);
          const from = pieces[k + 1]!;
          findings.push({ ...f, segment: pieces[k]!, start: from + f.start, end: from + f.end, match });
        }
      }
    };
    const scoped = credentials.length > 0 ? this.#scopedEngine(credentials) : undefined;
    const main = skipMain ? undefined : this.#engine.scan(segments);
    if (main) add(main.findings);
    const own = scoped?.scan(segments);
    if (own) add(own.findings);
    // Held credentials split across strings that are neighbours in another reading order.
    // Only matches across pieces are new there; the document scan found the rest, and tells
    // how far into each piece such a match can reach (Engine.scanAcross).
    // (One string can be JSON text with a value split across its members.)
    {
      const extra = [...decoded.map((d) => d.segment), ...derived.map((d) => d.segment)];
      const { pieces, starts } = splitChunksFlat(leaves, segments, SPLIT_REACH, extra, derivedOf);
      const whole = this.#wholeReadingOrders;
      for (let c = 0; c + 1 < starts.length; c++) {
        const first = starts[c]!;
        const last = starts[c + 1]!;
        if (whole) {
          const texts: string[] = [];
          for (let k = first; k < last; k++) texts.push(segments[pieces[3 * k]!]!.slice(pieces[3 * k + 1]!, pieces[3 * k + 2]!));
          if (main) add(this.#heldEngine.scan(texts).findings, pieces, first);
          if (scoped && own) add(scoped.scan(texts).findings, pieces, first);
          continue;
        }
        if (main) add(this.#heldEngine.scanAcrossFlat(segments, pieces, first, last, main.basis).findings, pieces, first);
        if (scoped && own) add(scoped.scanAcrossFlat(segments, pieces, first, last, own.basis).findings, pieces, first);
      }
    }
    if (derived.length > 0) {
      const bySegment = new Map(derived.map((d) => [d.segment, d]));
      findings = findings.map((f) => toRaw(f, bySegment));
    }
    // No placeholder may start or end inside an escape of JSON text (it would break the text).
    const hasEscape = new Map<number, boolean>();
    for (let k = 0; k < findings.length; k++) {
      const f = findings[k]!;
      const text = segments[f.segment]!;
      let escapes = hasEscape.get(f.segment);
      if (escapes === undefined) hasEscape.set(f.segment, (escapes = text.indexOf('\\') >= 0));
      if (!escapes) continue;
      const [start, end] = widenOverEscapes(text, f.start, f.end);
      if (start !== f.start || end !== f.end) findings[k] = { ...f, start, end };
    }
    if (cut.size > 0) report.unscannedChars = [...cut.values()].reduce((a, b) => a + b, 0);
    if (decoded.length > 0) {
      // A blob that decodes to text is judged by its text (where every finding of the encoded form also is).
      const twins = new Set(decoded.map((d) => d.leaf));
      findings = findings.filter((f) => !twins.has(f.segment));
    }
    if (findings.length === 0 && cut.size === 0) return message;

    // Decide per logical match (a value split across strings is one match, one action).
    const actionOf = new Map<number, OutputAction>();
    const typeOf = new Map<number, string>();
    // The classification is the message's: the action depends only on detector and type here.
    const actionByType: Record<Finding['detector'], Map<string, OutputAction>> = { held: new Map(), secret: new Map(), pii: new Map() };
    for (const f of findings) {
      if (actionOf.has(f.match)) continue;
      const known = actionByType[f.detector];
      let action = known.get(f.type);
      if (action === undefined) known.set(f.type, (action = this.#actions.actionFor(classification, f.type, f.detector)));
      actionOf.set(f.match, action);
      typeOf.set(f.match, f.type);
    }
    const denied = new Set<string>();
    for (const match of countedMatches(findings)) {
      const type = typeOf.get(match)!;
      const action = actionOf.get(match)!;
      report.redactions[type] = (report.redactions[type] ?? 0) + 1;
      report.actions[action] = (report.actions[action] ?? 0) + 1;
    }
    for (const [match, action] of actionOf) if (action === 'deny') denied.add(typeOf.get(match)!);
    if (denied.size > 0) {
      const types = [...denied].sort();
      throw new OutputRefusedError(
        'output.denied',
        `Gatehouse withheld this ${report.channel === 'result' ? 'result' : 'message'}: it contained ${types.join(', ')}, which the sanitize rules for ${classification} data refuse to relay.`,
        { types },
      );
    }

    const dropped = new Set<number>();
    const leafOf = (segment: number): number => (segment < leaves.length ? segment : decoded.find((d) => d.segment === segment)!.leaf);
    const numbersDropped = new Set<number>();
    for (const f of findings) {
      if (actionOf.get(f.match) !== 'drop') continue;
      const j = numberOf.get(f.segment);
      if (j !== undefined) numbersDropped.add(j);
      else dropped.add(leafOf(f.segment));
    }
    const rendered = redact(
      segments,
      findings,
      (f) => {
        const a = actionOf.get(f.match)!;
        return a === 'mask' || a === 'hash' ? a : 'keep';
      },
      { hashKey: this.#hashKey },
    );

    const replaced = new Map<number, string>();
    for (let i = 0; i < leaves.length; i++) {
      let text = rendered[i]!;
      const n = cut.get(i);
      if (n !== undefined) text += ` [TRUNCATED: ${n} characters past the scan limit]`;
      if (text !== leaves[i]!.text) replaced.set(i, text);
    }
    for (const d of decoded) {
      if (rendered[d.segment] !== segments[d.segment]) replaced.set(d.leaf, Buffer.from(rendered[d.segment]!, 'utf8').toString('base64'));
    }
    // A base64 member with a credential in its encoded form (binary content): the whole value
    // becomes the base64 of the placeholders; a redacted middle would leave decodable pieces.
    for (const f of findings) {
      const leaf = leaves[f.segment];
      if (leaf === undefined || leaf.key || leaf.member === undefined || !BASE64_MEMBERS.has(leaf.member)) continue;
      if (decoded.some((d) => d.leaf === f.segment) || dropped.has(f.segment)) continue;
      if (leaf.text.length % 4 !== 0 || !BASE64.test(leaf.text)) continue;
      const types = [...new Set(findings.filter((g) => g.segment === f.segment).map((g) => g.type))];
      replaced.set(f.segment, Buffer.from(types.map((t) => `[REDACTED:${t}]`).join(' ')).toString('base64'));
    }
    if (typeof message === 'string') {
      if (dropped.size > 0) return '' as T;
      return (replaced.get(0) ?? message) as T;
    }
    // A number with a finding becomes its placeholder (a string): the value must not go out.
    const numbersReplaced = new Map<number, string>();
    for (const [segment, j] of numberOf) if (rendered[segment] !== segments[segment]) numbersReplaced.set(j, rendered[segment]!);
    const numberChanges = numbersReplaced.size > 0 || numbersDropped.size > 0 ? { replaced: numbersReplaced, dropped: numbersDropped } : undefined;
    return rebuild(message, replaced, dropped, numberChanges) as T;
  }
}

/** Matches with pieces in more than one segment. */
function crossingMatches(found: readonly Finding[]): Set<number> {
  const first = new Map<number, number>();
  const out = new Set<number>();
  for (const f of found) {
    const seg = first.get(f.match);
    if (seg === undefined) first.set(f.match, f.segment);
    else if (seg !== f.segment) out.add(f.match);
  }
  return out;
}

/**
 * The matches a report counts: one per value, however many detectors or reading orders found
 * it (overlapping findings of one type in one string count once).
 */
function countedMatches(findings: readonly Finding[]): number[] {
  const firstPiece = new Map<number, Finding>();
  for (const f of findings) {
    const seen = firstPiece.get(f.match);
    if (seen === undefined || f.segment < seen.segment || (f.segment === seen.segment && f.start < seen.start)) firstPiece.set(f.match, f);
  }
  const pieces = [...firstPiece.values()].sort((a, b) => a.segment - b.segment || a.start - b.start || b.end - a.end);
  const reach = new Map<string, number>();
  const out: number[] = [];
  for (const f of pieces) {
    const key = `${f.segment}|${f.type}`;
    const end = reach.get(key);
    if (end !== undefined && f.start < end) {
      reach.set(key, Math.max(end, f.end));
      continue;
    }
    reach.set(key, f.end);
    out.push(f.match);
  }
  return out;
}
