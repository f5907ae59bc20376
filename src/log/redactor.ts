import { replaceJwts } from './jwt-shape.js';
import { SecretMatcher } from './secret-matcher.js';

/**
 * Last line of defence for logs and audit records: any registered secret value, any JWT and
 * any bearer credential is replaced before the text leaves the process. Structured redaction
 * (pino `redact`, audit argument scrubbing) runs first; this catches what slips through,
 * e.g. a secret echoed inside an upstream's stderr line.
 *
 * Everything here runs over attacker-influenced text of any length (tool arguments, upstream
 * output, client metadata), so every step is linear in the text: registered values are found
 * in one Aho–Corasick pass, JWTs by a scanner, and the one regular expression below has no
 * two adjacent repetitions that can match the same characters (`\s` and the token alphabet
 * are disjoint) and it can only start at a literal scheme name, so each character is examined
 * a bounded number of times.
 */
const BEARER = /\b(Bearer|DPoP)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
export const REDACTED = '[REDACTED]';

/**
 * The forms of a value a log line or audit body may carry: the value, its JSON-escaped form
 * (serialized lines), and for values long enough not to collide with ordinary text the
 * encodings the output sanitizer looks for (base64, hex, percent, JSON `\u` escapes), so an
 * upstream's stderr echoing an encoded credential is scrubbed too.
 */
function forms(value: string): readonly string[] {
  // `registerCredential` registers each value with two redactors in a row: the second gets the
  // same strings, so a thousand held values and their encodings are in memory once, not twice.
  if (lastForms?.value === value && lastForms.encoder === encodedForms) return lastForms.forms;
  const out = new Set([value, JSON.stringify(value).slice(1, -1)]);
  if (value.length >= ENCODED_MIN_LENGTH) for (const t of encodedForms(value)) if (t.text.length >= ENCODED_MIN_LENGTH) out.add(t.text);
  lastForms = { value, encoder: encodedForms, forms: [...out] };
  return lastForms.forms;
}
let lastForms: { value: string; encoder: typeof encodedForms; forms: readonly string[] } | undefined;

/** How a held value looks encoded (base64, hex, percent, JSON escapes); none until the output sanitizer supplies it. */
let encodedForms: (value: string) => Iterable<{ text: string }> = () => [];

/**
 * The output sanitizer's encodings of held values, so logs and audit records scrub the same
 * forms the agent-facing exit point does. Supplied by the sanitize room when it loads (logs sit
 * below it and import nothing of it). Only values registered afterwards get the encoded forms.
 */
export function useEncodedForms(fn: (value: string) => Iterable<{ text: string }>): void {
  encodedForms = fn;
}
/** Where credentials of known formats are in a text; none until the output sanitizer supplies its engine. */
let secretFormats: ((text: string) => Iterable<readonly [number, number]>) | undefined;

/**
 * The output sanitizer's secret-format detection (secretlint's recommended rules: cloud keys,
 * API tokens, private keys, connection strings with passwords), so a credential Gatehouse never
 * held — one an agent typed into a SQL string, an upstream's stderr quoting a config file — is
 * kept out of logs and audit records as it is kept from the agent. Supplied by the sanitize
 * room when it loads, as `useEncodedForms` is. Spans must be sorted and non-overlapping.
 */
export function useSecretFormats(fn: (text: string) => Iterable<readonly [number, number]>): void {
  secretFormats = fn;
}

/**
 * Matching of held credentials by the output sanitizer's automaton, so logs and audit records
 * scan with the one automaton the exit point already keeps for the same values and encodings
 * (tens of MB for a thousand vault values) instead of a second one of their own.
 */
export interface HeldSpanSource {
  /**
   * Takes a hold on `value` when `spans` finds it in every form this redactor scrubs (the value,
   * its JSON escape, the encodings of `useEncodedForms`) and keeps finding it until `release`:
   * returns the length of the longest such form. Returns 0 when it does not take the value —
   * the redactor then matches that value's forms itself.
   */
  hold(value: string): number;
  release(value: string): void;
  /** Where held values occur in `text`: sorted, non-overlapping [start, end) spans. */
  spans(text: string): Iterable<readonly [number, number]>;
}

let heldSource: HeldSpanSource | undefined;

/**
 * The output sanitizer's held-value matching, supplied by the sanitize room when it loads, as
 * `useEncodedForms` is. Values registered before it are matched by the redactor's own automaton.
 */
export function useHeldSpans(source: HeldSpanSource | undefined): void {
  heldSource = source;
}

/** The union of two sorted lists of non-overlapping spans, overlapping or touching-inside spans merged. */
function unionSpans(a: readonly (readonly [number, number])[], b: Iterable<readonly [number, number]>): [number, number][] {
  const all: [number, number][] = a.map(([s, e]) => [s, e]);
  for (const [s, e] of b) all.push([s, e]);
  all.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: [number, number][] = [];
  for (const [s, e] of all) {
    const last = out[out.length - 1];
    if (last !== undefined && s < last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

function replaceSpans(text: string, spans: Iterable<readonly [number, number]>, replacement: string): string {
  let out = '';
  let copied = 0;
  for (const [start, end] of spans) {
    if (start < copied) continue;
    out += text.slice(copied, start) + replacement;
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Values shorter than this are too likely to collide with ordinary text to scrub verbatim. */
const MIN_SECRET_LENGTH = 4;
/** Encoded forms are scrubbed for values at least this long (the output sanitizer's held minimum). */
const ENCODED_MIN_LENGTH = 8;
/**
 * How far past a cut text is still scanned, so a credential that starts before the cut (a JWT,
 * a bearer token) is still recognised and replaced whole. Registered values longer than this
 * widen the window to their own length.
 */
export const SCAN_MARGIN = 8192;

export class SecretRedactor {
  #secrets = new Set<string>();
  /** Values whose forms the held-span source matches, with who holds them and their longest form. */
  #delegated = new Map<string, { source: HeldSpanSource; longest: number }>();
  #matcher: SecretMatcher | undefined;
  #longest = 0;

  register(value: string): void {
    if (value.length < MIN_SECRET_LENGTH || this.#secrets.has(value) || this.#delegated.has(value)) return;
    const source = heldSource;
    const longest = source?.hold(value) ?? 0;
    if (source !== undefined && longest > 0) {
      this.#delegated.set(value, { source, longest });
      this.#longest = Math.max(this.#longest, longest);
      return;
    }
    for (const form of forms(value)) {
      this.#secrets.add(form);
      // Growing only: a rescan of every registered form per value made startup quadratic.
      this.#longest = Math.max(this.#longest, form.length);
    }
    this.#matcher = undefined;
  }

  /** Forgets a value that can no longer be used (a revoked lease's password). */
  unregister(value: string): void {
    const delegated = this.#delegated.get(value);
    if (delegated !== undefined) {
      this.#delegated.delete(value);
      delegated.source.release(value);
    } else {
      if (!this.#secrets.has(value)) return;
      for (const form of forms(value)) this.#secrets.delete(form);
      lastForms = undefined;
      this.#matcher = undefined;
    }
    this.#longest = 0;
    for (const secret of this.#secrets) this.#longest = Math.max(this.#longest, secret.length);
    for (const d of this.#delegated.values()) this.#longest = Math.max(this.#longest, d.longest);
  }

  /** How many strings are registered: the forms matched here plus the values the held-span source matches. */
  get size(): number {
    return this.#secrets.size + this.#delegated.size;
  }

  /** Length of the longest registered value (escaped forms included): how far past a cut a secret can reach. */
  get longest(): number {
    return this.#longest;
  }

  #knownSpans(text: string): [number, number][] {
    let own: [number, number][] = [];
    if (this.#secrets.size > 0) {
      this.#matcher ??= new SecretMatcher(this.#secrets);
      own = this.#matcher.spans(text);
    }
    if (this.#delegated.size === 0) return own;
    // Every delegated value was held by the same source (the process's sanitizer).
    const source = this.#delegated.values().next().value!.source;
    return unionSpans(own, source.spans(text));
  }

  #replaceKnown(text: string): string {
    if (this.size === 0) return text;
    return replaceSpans(text, this.#knownSpans(text), REDACTED);
  }

  /**
   * Replaces registered values only (no JWT or bearer patterns): for tool results flowing back
   * to the agent, where credential-shaped text may be legitimate data but a credential
   * Gatehouse holds never is. Overlapping occurrences are replaced as one.
   */
  scrubKnown(text: string): string {
    return this.#replaceKnown(text);
  }

  /**
   * Where registered values occur in `text`: sorted, non-overlapping [start, end) ranges,
   * overlapping occurrences merged (as `scrubKnown` replaces them). For views that mark
   * what they masked instead of splicing in a placeholder that could pass for data.
   */
  spans(text: string): [number, number][] {
    if (this.size === 0) return [];
    return this.#knownSpans(text);
  }

  scrub(text: string): string {
    let out = this.#replaceKnown(text);
    if (out.includes('eyJ')) out = replaceJwts(out, REDACTED);
    if (out.length > 14) out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`);
    if (secretFormats !== undefined) out = replaceSpans(out, secretFormats(out), REDACTED);
    return out;
  }

  /**
   * `scrub` of the first `limit` characters of `text`, for values that are cut before they are
   * stored. Only a window reaching `margin` characters (at least the longest registered value)
   * past the cut is scanned, so the cost is bounded by the limit, not by the text; a secret
   * that starts before the cut is still replaced whole rather than left as a prefix.
   */
  scrubPrefix(text: string, limit: number, margin = SCAN_MARGIN): { text: string; cut: boolean } {
    if (text.length <= limit) return { text: this.scrub(text), cut: false };
    const window = text.slice(0, limit + Math.max(margin, this.#longest));
    return { text: this.scrub(window).slice(0, limit), cut: true };
  }

  /** `text` cut to `limit` characters with a note of how much was cut, scrubbed as `scrubPrefix` does. */
  readonly cut = (text: string, limit: number): string =>
    text.length <= limit ? text : `${this.scrubPrefix(text, limit).text}…[${text.length - limit} more chars]`;
}

/** Process-wide registry: more redaction never hurts, so every component shares it. */
export const secrets = new SecretRedactor();

/**
 * The credentials Gatehouse holds — vault values, memory-only secrets, lease passwords, literal
 * secrets found in the config — and nothing else. These are also scrubbed from tool results on
 * their way to the agent, where a broader list (every `${VAR}` value, say) would mangle data.
 */
export const heldCredentials = new SecretRedactor();

/** Registers a credential for log, audit and result scrubbing. */
export function registerCredential(value: string): void {
  // `heldCredentials` first: the output sanitizer learns held values from it, and `secrets`
  // then finds the value held and matches it with the sanitizer's automaton.
  heldCredentials.register(value);
  secrets.register(value);
}

/** Forgets a credential that can no longer be used. */
export function unregisterCredential(value: string): void {
  secrets.unregister(value);
  heldCredentials.unregister(value);
}
