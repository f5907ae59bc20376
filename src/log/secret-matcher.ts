import { Automaton } from '../util/aho-corasick.js';

/**
 * Finds every occurrence of any of a set of strings in one pass over the text. It runs the
 * same Aho–Corasick automaton as the output sanitizer (UTF-16 code units, typed arrays), so
 * logs, audit records and agent-visible output share one matching engine. The cost is linear
 * in the text plus the number of occurrences, whatever the number of strings: a log line or
 * audit body of a megabyte is scanned once, not once per registered secret.
 */
export class SecretMatcher {
  readonly #automaton: Automaton;
  readonly #empty: boolean;

  constructor(needles: Iterable<string>) {
    const list = [...needles].filter((n) => n.length > 0);
    this.#empty = list.length === 0;
    this.#automaton = new Automaton(list);
  }

  get empty(): boolean {
    return this.#empty;
  }

  /**
   * Where needles occur in `text`: sorted, non-overlapping [start, end) spans, overlapping or
   * nested occurrences merged into one, so no fragment of any needle lies outside a span.
   */
  spans(text: string): [number, number][] {
    const found: [number, number][] = [];
    if (this.#empty) return found;
    const lengths = this.#automaton.lengths;
    this.#automaton.scan(text, 0, text.length, 0, (pattern, end) => {
      let start = end - lengths[pattern]!;
      // Occurrences arrive in order of their end: one reaching back into earlier spans absorbs them.
      while (found.length > 0 && start < found[found.length - 1]![1]) start = Math.min(start, found.pop()![0]);
      found.push([start, end]);
    });
    return found;
  }

  /**
   * The text with the union of all occurrences replaced: overlapping or nested occurrences
   * become one `replacement`, so no fragment of any needle survives next to another.
   */
  replaceAll(text: string, replacement: string): string {
    const spans = this.spans(text);
    if (spans.length === 0) return text;
    let out = '';
    let copied = 0;
    for (const [start, end] of spans) {
      out += text.slice(copied, start) + replacement;
      copied = end;
    }
    return out + text.slice(copied);
  }
}
