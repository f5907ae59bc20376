/** A literal to look for, and the redaction type its occurrences are reported with. */
export interface Pattern {
  readonly text: string;
  readonly type: string;
}

/** One stretch of text to redact: half-open `[start, end)` in UTF-16 code units. */
export interface Match {
  start: number;
  end: number;
  type: string;
}

/**
 * Finds every occurrence of a fixed set of literals in one pass. Kept behind this interface so
 * the search structure can change (a library automaton, a native one) without touching callers.
 */
export interface Matcher {
  /** Number of patterns; 0 means `find` always returns nothing. */
  readonly size: number;
  /** Length of the longest pattern (how far an occurrence can reach across a boundary). */
  readonly longest: number;
  /** Every occurrence of every pattern, overlapping ones merged, in text order. */
  find(text: string): Match[];
}

export const EMPTY_MATCHER: Matcher = { size: 0, longest: 0, find: () => [] };

const ASCII = 128;
/** States (in breadth-first order) whose ASCII transitions are precomputed in a table. */
const DENSE_STATES = 256;

/**
 * Aho–Corasick over UTF-16 code units: O(text length + matches) per search whatever the number
 * of patterns, built once per pattern set (the sets change when credentials are registered or
 * revoked, not per message). Children are stored compactly (sorted per state, ASCII at the root
 * in a table) because long patterns — a certificate in the vault — make long single-child chains.
 */
export class AhoCorasickMatcher implements Matcher {
  readonly size: number;
  readonly longest: number;
  /** Complete ASCII transitions (failures resolved) of the first states: the text's common path. */
  readonly #dense: Int32Array;
  readonly #denseStates: number;
  readonly #childStart: Int32Array;
  readonly #childSymbol: Uint16Array;
  readonly #childState: Int32Array;
  readonly #fail: Int32Array;
  /** Length of the longest pattern that ends at this state (0: none). */
  readonly #outLength: Int32Array;
  readonly #outType: Int32Array;
  readonly #types: string[] = [];

  constructor(patterns: readonly Pattern[]) {
    const children: Map<number, number>[] = [new Map()];
    const ownLength: number[] = [0];
    const ownType: number[] = [-1];
    const typeIndex = new Map<string, number>();
    const seen = new Set<string>();
    let longest = 0;
    for (const { text, type } of patterns) {
      if (text.length === 0 || seen.has(text)) continue;
      seen.add(text);
      longest = Math.max(longest, text.length);
      let t = typeIndex.get(type);
      if (t === undefined) {
        t = this.#types.length;
        this.#types.push(type);
        typeIndex.set(type, t);
      }
      let state = 0;
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        const map = children[state] as Map<number, number>;
        let next = map.get(code);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          ownLength.push(0);
          ownType.push(-1);
          map.set(code, next);
        }
        state = next;
      }
      if (text.length > (ownLength[state] as number)) {
        ownLength[state] = text.length;
        ownType[state] = t;
      }
    }
    this.size = seen.size;
    this.longest = longest;
    const count = children.length;
    this.#fail = new Int32Array(count);
    this.#outLength = Int32Array.from(ownLength);
    this.#outType = Int32Array.from(ownType);
    // Breadth first: a state's failure link points to a shallower state, already final.
    const queue: number[] = [];
    for (const next of (children[0] as Map<number, number>).values()) queue.push(next);
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      for (const [code, next] of children[state] as Map<number, number>) {
        let f = this.#fail[state] as number;
        let target: number | undefined;
        for (;;) {
          target = (children[f] as Map<number, number>).get(code);
          if (target !== undefined || f === 0) break;
          f = this.#fail[f] as number;
        }
        const link = target !== undefined && target !== next ? target : 0;
        this.#fail[next] = link;
        if ((this.#outLength[link] as number) > (this.#outLength[next] as number)) {
          this.#outLength[next] = this.#outLength[link] as number;
          this.#outType[next] = this.#outType[link] as number;
        }
        queue.push(next);
      }
    }
    // Compact, sorted child lists (CSR layout).
    this.#childStart = new Int32Array(count + 1);
    let total = 0;
    for (let s = 0; s < count; s++) {
      this.#childStart[s] = total;
      total += (children[s] as Map<number, number>).size;
    }
    this.#childStart[count] = total;
    this.#childSymbol = new Uint16Array(total);
    this.#childState = new Int32Array(total);
    for (let s = 0; s < count; s++) {
      const sorted = [...(children[s] as Map<number, number>)].sort((a, b) => a[0] - b[0]);
      let at = this.#childStart[s] as number;
      for (const [code, next] of sorted) {
        this.#childSymbol[at] = code;
        this.#childState[at] = next;
        at++;
      }
    }
    // Breadth-first numbering puts every failure link before its state, so rows fill in order.
    this.#denseStates = Math.min(count, DENSE_STATES);
    this.#dense = new Int32Array(this.#denseStates * ASCII);
    const order = [0, ...queue];
    const rank = new Int32Array(count).fill(-1);
    order.forEach((state, i) => {
      if (i < this.#denseStates) rank[state] = i;
    });
    this.#rank = rank;
    for (let i = 0; i < this.#denseStates; i++) {
      const state = order[i] as number;
      for (let code = 0; code < ASCII; code++) {
        const next = (children[state] as Map<number, number>).get(code);
        this.#dense[i * ASCII + code] = next ?? (state === 0 ? 0 : (this.#dense[(rank[this.#fail[state] as number] as number) * ASCII + code] as number));
      }
    }
  }

  /** Row of a state in the dense table, or -1. */
  readonly #rank: Int32Array;

  #child(state: number, code: number): number {
    let lo = this.#childStart[state] as number;
    let hi = (this.#childStart[state + 1] as number) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const symbol = this.#childSymbol[mid] as number;
      if (symbol === code) return this.#childState[mid] as number;
      if (symbol < code) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  find(text: string): Match[] {
    if (this.size === 0) return [];
    let found: Match[] | undefined;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      for (;;) {
        const row = code < ASCII ? (this.#rank[state] as number) : -1;
        if (row >= 0) {
          state = this.#dense[row * ASCII + code] as number;
          break;
        }
        if (state === 0) {
          state = Math.max(0, this.#child(0, code));
          break;
        }
        const next = this.#child(state, code);
        if (next >= 0) {
          state = next;
          break;
        }
        state = this.#fail[state] as number;
      }
      const length = this.#outLength[state] as number;
      if (length > 0) (found ??= []).push({ start: i + 1 - length, end: i + 1, type: this.#types[this.#outType[state] as number] as string });
    }
    return found ? mergeMatches(found) : [];
  }
}

/** Sorts and merges overlapping matches; the merged match keeps the type of its earliest part. */
export function mergeMatches(matches: Match[]): Match[] {
  if (matches.length < 2) return matches;
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Match[] = [];
  for (const m of matches) {
    const last = out[out.length - 1];
    if (last && m.start < last.end) last.end = Math.max(last.end, m.end);
    else out.push({ ...m });
  }
  return out;
}

export function buildMatcher(patterns: readonly Pattern[]): Matcher {
  return patterns.length === 0 ? EMPTY_MATCHER : new AhoCorasickMatcher(patterns);
}
