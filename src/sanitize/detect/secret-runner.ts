// Runs the rules of secretlint's recommended preset synchronously on strings, behind a
// prefilter.
//
// How: `@secretlint/core`'s `lintSource` creates each rule with a context (`report`,
// `ignore`, `createTranslator`) and awaits `rule.file(source)`. The preset's rules only need
// that public contract, and every branch reachable without a file path is synchronous, so the
// rules are created once here with a context whose `report` collects ranges, and `file()` is
// called directly: no promise, event emitter or message post-processing per call. A rule
// that ever returns a promise is a hard error (fail closed) rather than a silently missed
// report.
//
// Prefilter: an Aho–Corasick pass finds every anchor of every rule (secret-rules.ts; the
// engine folds the anchors into its one automaton per message); a rule runs only where its
// confirmed anchors are, on the segment or on bounded windows around the anchors.

import { rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import type { SecretLintRuleContext, SecretLintRuleCreator, SecretLintRuleReportHandler, SecretLintSourceCode } from '@secretlint/types';
import { Automaton } from '../../util/aho-corasick.js';
import { RULE_INVOCATIONS, RULES_NOT_RUN, type AnchorSpec, type CharFinder, type RuleInvocation } from './secret-rules.js';

/** Look-behind / look-ahead context kept around a window (a surrogate pair for `\p{L}`). */
export const WINDOW_CONTEXT = 2;
const MIN_WINDOW_CAP = 8192;

export interface RawReport {
  readonly ruleId: string;
  readonly messageId: string;
  /** Range of the secret, corrected where the rule reports a shifted range. */
  readonly start: number;
  readonly end: number;
  /** The range exactly as the rule reported it (for equivalence tests). */
  readonly reportedStart: number;
  readonly reportedEnd: number;
}

type AnyRule = SecretLintRuleCreator<Record<string, unknown>>;

interface Sink {
  out: RawReport[];
  ruleId: string;
  content: string;
  offset: number;
  /** Reports whose range leaves [lo, hi) of `content` are dropped (cut window edges). */
  lo: number;
  hi: number;
}

let sink: Sink | null = null;

/** Data fields in which rules put the matched secret (used to correct shifted ranges). */
const VALUE_FIELDS = ['KEY', 'TOKEN', 'ID', 'URL', 'URI', 'CREDENTIAL'] as const;

function collect(descriptor: { message: { messageId: string; data?: unknown }; range: readonly [number, number] }): void {
  const s = sink;
  if (s === null) throw new Error('secret rule reported outside a scan');
  const [reportedStart, reportedEnd] = descriptor.range;
  let start = reportedStart;
  let end = reportedEnd;
  // Some rules report [index of the whole match, + length of the captured secret], which
  // starts at the key name and stops short of the secret's end (AWS secret keys, .npmrc
  // tokens, x-oauth-basic URLs). Re-anchor the range on the secret itself.
  const data = descriptor.message.data as Record<string, unknown> | undefined;
  if (data !== undefined) {
    for (const field of VALUE_FIELDS) {
      const value = data[field];
      if (typeof value !== 'string' || value.length === 0) continue;
      if (s.content.startsWith(value, start) && start + value.length === end) break;
      const at = s.content.indexOf(value, start);
      if (at !== -1 && at <= end) {
        start = at;
        end = at + value.length;
      }
      break;
    }
  }
  if (start < s.lo || end > s.hi) return;
  s.out.push({
    ruleId: s.ruleId,
    messageId: descriptor.message.messageId,
    start: start + s.offset,
    end: end + s.offset,
    reportedStart: reportedStart + s.offset,
    reportedEnd: reportedEnd + s.offset,
  });
}

const context: SecretLintRuleContext = {
  sharedOptions: {},
  // Messages are never formatted: they would copy the secret into a string nobody needs.
  createTranslator: (() => (messageId: string, data?: unknown) => ({ message: '', messageId, data })) as never,
  report: collect as never,
  ignore: () => {
    // The comment filter is not run; nothing else ignores.
  },
};

class Source implements SecretLintSourceCode {
  readonly hasBOM = false;
  readonly physicalFilePath = undefined;
  readonly contentType = 'text' as const;
  readonly content: string;
  readonly filePath: string | undefined;
  readonly ext: string;

  constructor(content: string, options: RuleInvocation['source']) {
    this.content = content;
    this.filePath = options?.filePath;
    this.ext = options?.ext ?? '';
  }

  getFilePath(): string | undefined {
    return this.filePath;
  }

  getPhysicalFilePath(): undefined {
    return undefined;
  }

  // Location helpers: only the comment filter uses them, and it is not run.
  locationToRange(): never {
    throw new Error('not supported');
  }

  rangeToLocation(): never {
    throw new Error('not supported');
  }

  positionToIndex(): never {
    throw new Error('not supported');
  }

  indexToPosition(): never {
    throw new Error('not supported');
  }
}

interface Prepared {
  readonly invocation: RuleInvocation;
  readonly handler: SecretLintRuleReportHandler;
  readonly ruleId: string;
  readonly windowCap: number;
}

interface AnchorRef {
  readonly prepared: number;
  readonly spec: AnchorSpec;
}

function findRule(id: string): AnyRule {
  const rule = (presetRules as unknown as AnyRule[]).find((r) => r.meta.id === id);
  if (rule === undefined) throw new Error(`secret rule ${id} is not in the installed preset`);
  return rule;
}

/** The preset's rule ids (for tests: every rule is either run or deliberately not run). */
export function presetRuleIds(): string[] {
  return (presetRules as unknown as AnyRule[]).map((r) => r.meta.id);
}

export function notRunRuleIds(): readonly string[] {
  return RULES_NOT_RUN;
}

export interface SecretRuleRunnerOptions {
  /** Default true. Without it every rule runs on every whole segment (tests compare both). */
  prefilter?: boolean;
}

/** Anchor hits in one segment: anchor index (into `anchors`) and start offset, in scan order. */
export interface AnchorHits {
  anchor: number[];
  at: number[];
}

export class SecretRuleRunner {
  /** Every distinct anchor literal, indexed like the hits passed to `runSegment`. */
  readonly anchors: readonly string[];
  private readonly prepared: readonly Prepared[];
  /** Per distinct anchor literal, every (rule, spec) it stands for. */
  private readonly anchorRefs: readonly (readonly AnchorRef[])[];
  private readonly prefilter: boolean;
  private automaton: Automaton | null = null;

  constructor(options: SecretRuleRunnerOptions = {}) {
    this.prefilter = options.prefilter ?? true;
    const prepared: Prepared[] = [];
    const anchorTexts: string[] = [];
    const anchorRefs: AnchorRef[][] = [];
    const anchorIndex = new Map<string, number>();
    for (const invocation of RULE_INVOCATIONS) {
      const rule = findRule(invocation.ruleId);
      const handler = rule.create(context, (invocation.options ?? {}) as Record<string, unknown>);
      let reach = 0;
      for (const spec of invocation.anchors) {
        reach = Math.max(reach, spec.before + spec.after + 2 * WINDOW_CONTEXT);
        let index = anchorIndex.get(spec.anchor);
        if (index === undefined) {
          index = anchorTexts.length;
          anchorIndex.set(spec.anchor, index);
          anchorTexts.push(spec.anchor);
          anchorRefs.push([]);
        }
        anchorRefs[index]!.push({ prepared: prepared.length, spec });
      }
      prepared.push({ invocation, handler, ruleId: rule.meta.id, windowCap: Math.max(MIN_WINDOW_CAP, 4 * reach) });
    }
    this.prepared = prepared;
    this.anchors = anchorTexts;
    this.anchorRefs = anchorRefs;
  }

  /**
   * Raw reports for each segment `text` (standalone use and tests). With the prefilter, an
   * anchor automaton finds the hits; without it, every rule runs on every whole segment.
   */
  run(texts: readonly string[]): RawReport[][] {
    return texts.map((text) => {
      const out: RawReport[] = [];
      if (!this.prefilter) {
        for (const p of this.prepared) this.invoke(p, text, 0, text.length, 0, text.length, out);
        return out;
      }
      this.automaton ??= new Automaton(this.anchors);
      const hits: AnchorHits = { anchor: [], at: [] };
      this.automaton.scan(text, 0, text.length, 0, (p, end) => {
        hits.anchor.push(p);
        hits.at.push(end - this.anchors[p]!.length);
      });
      this.runSegment(text, hits, out);
      return out;
    });
  }

  /** Runs the rules whose confirmed anchors are among `hits`, on `text` (one segment). */
  runSegment(text: string, hits: AnchorHits, out: RawReport[]): void {
    const end = text.length;
    const find = new MemoFinder(text);
    // Confirmed hits per invocation, in offset order.
    let perRule: Map<number, { at: number; spec: AnchorSpec }[]> | null = null;
    for (let k = 0; k < hits.anchor.length; k++) {
      const at = hits.at[k]!;
      if (at < 0) continue; // an anchor straddling the previous segment
      for (const ref of this.anchorRefs[hits.anchor[k]!]!) {
        if (ref.spec.confirm !== undefined && !ref.spec.confirm(text, at, end, find)) continue;
        perRule ??= new Map();
        let list = perRule.get(ref.prepared);
        if (list === undefined) perRule.set(ref.prepared, (list = []));
        list.push({ at, spec: ref.spec });
      }
    }
    if (perRule === null) return;
    // Hits arrive in order of their end; windows need them by start.
    for (const [index, list] of perRule) {
      const p = this.prepared[index]!;
      if (p.invocation.mode === 'segment') {
        this.invoke(p, text, 0, end, 0, end, out);
      } else {
        list.sort((x, y) => x.at - y.at);
        this.runWindows(p, text, list, out);
      }
    }
  }

  private runWindows(p: Prepared, text: string, hits: readonly { at: number; spec: AnchorSpec }[], out: RawReport[]): void {
    const segEnd = text.length;
    let winStart = -1;
    let winEnd = -1;
    for (const { at, spec } of hits) {
      const start = Math.max(0, at - spec.before - WINDOW_CONTEXT);
      const end = Math.min(segEnd, at + spec.after + WINDOW_CONTEXT);
      if (winStart !== -1 && start <= winEnd && Math.max(end, winEnd) - winStart <= p.windowCap) {
        winEnd = Math.max(winEnd, end);
        continue;
      }
      if (winStart !== -1) this.invokeWindow(p, text, winStart, winEnd, out);
      winStart = start;
      winEnd = end;
    }
    if (winStart !== -1) this.invokeWindow(p, text, winStart, winEnd, out);
  }

  private invokeWindow(p: Prepared, text: string, start: number, end: number, out: RawReport[]): void {
    // A match touching a cut edge of the window may be truncated (or see no look-behind
    // context); the window that owns its anchor reports it whole.
    const lo = start > 0 ? WINDOW_CONTEXT : 0;
    const hi = end < text.length ? end - start - WINDOW_CONTEXT : end - start;
    this.invoke(p, text, start, end, start + lo, start + hi, out);
  }

  private invoke(p: Prepared, text: string, start: number, end: number, lo: number, hi: number, out: RawReport[]): void {
    const content = start === 0 && end === text.length ? text : text.slice(start, end);
    const file = p.handler.file;
    if (file === undefined) return;
    sink = { out, ruleId: p.ruleId, content, offset: start, lo: lo - start, hi: hi - start };
    try {
      const result = file(new Source(content, p.invocation.source));
      if (result !== undefined && typeof (result as { then?: unknown }).then === 'function') {
        throw new Error(`secret rule ${p.ruleId} returned a promise; the sanitizer runs rules synchronously`);
      }
    } finally {
      sink = null;
    }
  }
}

/** `CharFinder` that resumes each character's search where the previous one stopped. */
class MemoFinder implements CharFinder {
  // One remembered search (the confirmations only ever look for `@`); another character
  // replaces it.
  private char = '';
  private from = 0;
  private at = -1;

  constructor(private readonly text: string) {}

  next(c: string, from: number): number {
    if (c === this.char && from >= this.from && (this.at === -1 || from <= this.at)) return this.at;
    const at = this.text.indexOf(c, from);
    this.char = c;
    this.from = from;
    this.at = at;
    return at;
  }
}
