/**
 * Finds every occurrence of any of a set of strings in one pass over the text (Aho–Corasick
 * over UTF-16 code units). The cost is linear in the text plus the number of occurrences,
 * whatever the number of strings: a log line or audit body of a megabyte is scanned once, not
 * once per registered secret, and no input shape makes the scan slower.
 */
export class SecretMatcher {
  /** goto function: `state * 0x10000 + code unit` → next state. */
  readonly #next = new Map<number, number>();
  /** Failure link of each state (longest proper suffix that is also a trie path). */
  readonly #fail: number[] = [0];
  /** Length of the longest needle that ends at each state (0: none), through failure links too. */
  readonly #longest: number[] = [0];

  constructor(needles: Iterable<string>) {
    for (const needle of needles) if (needle.length > 0) this.#add(needle);
    this.#link();
  }

  #add(needle: string): void {
    let state = 0;
    for (let i = 0; i < needle.length; i++) {
      const key = state * 0x10000 + needle.charCodeAt(i);
      let to = this.#next.get(key);
      if (to === undefined) {
        to = this.#fail.length;
        this.#fail.push(0);
        this.#longest.push(0);
        this.#next.set(key, to);
      }
      state = to;
    }
    this.#longest[state] = Math.max(this.#longest[state] as number, needle.length);
  }

  /** Breadth-first over the trie: a state's failure link is resolved before its children's. */
  #link(): void {
    const children = new Map<number, [number, number][]>();
    for (const [key, to] of this.#next) {
      const from = Math.floor(key / 0x10000);
      let list = children.get(from);
      if (!list) children.set(from, (list = []));
      list.push([key % 0x10000, to]);
    }
    const queue: number[] = [];
    for (const [, to] of children.get(0) ?? []) queue.push(to);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      for (const [code, to] of children.get(state) ?? []) {
        let fallback = this.#fail[state] as number;
        while (fallback !== 0 && !this.#next.has(fallback * 0x10000 + code)) fallback = this.#fail[fallback] as number;
        const target = this.#next.get(fallback * 0x10000 + code);
        const link = target !== undefined && target !== to ? target : 0;
        this.#fail[to] = link;
        this.#longest[to] = Math.max(this.#longest[to] as number, this.#longest[link] as number);
        queue.push(to);
      }
    }
  }

  get empty(): boolean {
    return this.#next.size === 0;
  }

  /**
   * Where needles occur in `text`: sorted, non-overlapping [start, end) spans, overlapping or
   * nested occurrences merged into one, so no fragment of any needle lies outside a span.
   */
  spans(text: string): [number, number][] {
    const found: [number, number][] = [];
    if (this.empty) return found;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      let to = this.#next.get(state * 0x10000 + code);
      while (to === undefined && state !== 0) {
        state = this.#fail[state] as number;
        to = this.#next.get(state * 0x10000 + code);
      }
      state = to ?? 0;
      const length = this.#longest[state] as number;
      if (length === 0) continue;
      let start = i + 1 - length;
      // A span that reaches back into earlier ones absorbs them (amortised: each span is popped once).
      while (found.length > 0 && start < (found[found.length - 1] as [number, number])[1]) {
        start = Math.min(start, (found.pop() as [number, number])[0]);
      }
      found.push([start, i + 1]);
    }
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
