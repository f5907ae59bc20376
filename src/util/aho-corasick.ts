// A multi-pattern Aho–Corasick automaton over UTF-16 code units, in typed arrays.
//
// Why not the `modern-ahocorasick` package: it matches whole grapheme clusters, so a held
// value followed by a combining mark ("secret" + U+0301) is not found, and it scans at about
// 40 MB/s (5 MB/s with its double-array backend) by slicing one string per character. The
// sanitizer must match code units and scan hundreds of MB/s, so this is a small automaton
// of its own (decision recorded in docs/decisions.md).
//
// Layout: characters map to dense classes (0: in no pattern, which always leads back to the
// root). States are numbered breadth-first; the shallow ones (depth ≤ D, D chosen so the
// table stays within a memory budget) get full DFA rows, so the common case is one typed
// array load per character. Deeper states keep their goto edges and fall back along
// failure links, which is linear overall (each character advances depth by at most one).

export interface AutomatonOptions {
  /** Match ASCII letters case-insensitively (patterns are folded too). */
  foldAsciiCase?: boolean;
  /** Give the digits 0–9 the classes 1–10, so `scanFused` can report digit runs. */
  digitClasses?: boolean;
  /** Upper bound on dense DFA table entries (4 bytes each). */
  denseBudget?: number;
}

export type MatchCallback = (pattern: number, end: number) => void;

const ignoreMatch: MatchCallback = () => {};

// 1 Mi entries (4 MB): with a thousand held values and their encodings (≈ 350,000 states) the
// dense rows cover depth ≤ 2–3, where text spends nearly all its steps; a 4× larger table
// scanned no faster on JSON, base64, hex or held-prefix text in the same run, and each large
// automaton kept 10+ MB more resident.
const DEFAULT_DENSE_BUDGET = 1 << 20;

export class Automaton {
  readonly patternCount: number;
  readonly stateCount: number;
  /** Length of each pattern in code units. */
  readonly lengths: Int32Array;
  private readonly digitClasses: boolean;
  private readonly classOf: Uint16Array;
  private readonly classes: number;
  private readonly dense: Int32Array;
  private readonly denseCount: number;
  private readonly edgeStart: Int32Array;
  private readonly edgeClass: Uint16Array;
  private readonly fail: Int32Array;
  /** First pattern ending exactly at a state, or -1; then `nextTerminal`. */
  private readonly terminal: Int32Array;
  private readonly nextTerminal: Int32Array;
  /** Nearest proper suffix state (via failure links) that is terminal, or -1. */
  private readonly dictLink: Int32Array;
  /** 1 when a state, or one of its suffixes, ends a pattern. */
  private readonly emits: Uint8Array;
  /** Length of the text a state stands for (its depth in the trie). */
  private readonly depth: Int32Array;
  /** Length of the longest pattern: no state is deeper. */
  readonly maxLength: number;
  /** The same tables, as `follow` reads them for states beyond the dense rows. */
  private readonly transitions: Transitions;

  constructor(patterns: readonly string[], options: AutomatonOptions = {}) {
    const tables = build(patterns, options.foldAsciiCase === true, options.digitClasses === true, options.denseBudget ?? DEFAULT_DENSE_BUDGET);
    this.digitClasses = options.digitClasses === true;
    this.patternCount = patterns.length;
    this.stateCount = tables.states;
    this.lengths = tables.lengths;
    this.classOf = tables.classOf;
    this.classes = tables.classes;
    this.dense = tables.dense;
    this.denseCount = tables.denseCount;
    this.edgeStart = tables.edgeStart;
    this.edgeClass = tables.edgeClass;
    this.fail = tables.fail;
    this.terminal = tables.terminal;
    this.nextTerminal = tables.nextTerminal;
    this.dictLink = tables.dictLink;
    this.emits = tables.emits;
    this.depth = tables.depth;
    this.transitions = tables;
    let longest = 0;
    for (let p = 0; p < this.lengths.length; p++) longest = Math.max(longest, this.lengths[p]!);
    this.maxLength = longest;
  }

  /** The class of a code unit (0: in no pattern). Exposed for scanners that skip characters. */
  classOfCode(c: number): number {
    return this.classOf[c]!;
  }

  /**
   * Feeds `text[from, to)` starting in `state` (0 is the start state) and returns the state
   * reached, so a scan can continue across strings. Calls `onMatch(pattern, end)` for every
   * occurrence (overlapping ones too), `end` exclusive, in order of `end`.
   */
  scan(text: string, from: number, to: number, state: number, onMatch: MatchCallback): number {
    return this.scanStopping(text, from, to, state, onMatch, null);
  }

  /**
   * `scan`, plus two things the sanitizer needs in the same pass: `onDigitRun(i)` at the
   * first digit of every run of digits (requires `digitClasses`; null: not wanted), and a stop: when a code
   * unit in no pattern has `stop[c] !== 0`, scanning stops and `-1 - i` is returned (the
   * caller rescans a normalized copy of the text). With `quotes`, at every `"` in no pattern
   * the pair (offset, state before it) is appended: where a JSON string literal ends, the
   * state a scan of the literal alone ends in (the opening quote sent the scan to the start).
   */
  scanFused(
    text: string,
    from: number,
    to: number,
    state: number,
    onMatch: MatchCallback,
    onDigitRun: ((i: number) => void) | null,
    stop: Uint8Array | null,
    quotes: number[] | null = null,
  ): number {
    if (!this.digitClasses) throw new Error('scanFused needs digitClasses');
    if (onDigitRun === null) return this.scanStopping(text, from, to, state, onMatch, stop, quotes);
    const { classOf, dense, classes, denseCount, emits } = this;
    let s = state;
    let inDigits = false;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      const k = classOf[c]!;
      if (k === 0) {
        if (this.stopsAt(c, i, s, stop, quotes)) return -1 - i;
        s = 0;
        inDigits = false;
        continue;
      }
      if (k <= 10) {
        if (!inDigits) {
          inDigits = true;
          onDigitRun(i);
        }
      } else {
        inDigits = false;
      }
      s = s < denseCount ? dense[s * classes + k]! : this.step(s, k);
      if (emits[s] === 1) this.report(s, i + 1, onMatch);
    }
    return s;
  }

  /** `scanFused` without digit runs (and `scan`, with no stop). */
  private scanStopping(
    text: string,
    from: number,
    to: number,
    state: number,
    onMatch: MatchCallback,
    stop: Uint8Array | null,
    quotes: number[] | null = null,
  ): number {
    const { classOf, dense, classes, denseCount, emits } = this;
    let s = state;
    for (let i = from; i < to; i++) {
      const k = classOf[text.charCodeAt(i)]!;
      if (k === 0) {
        if (this.stopsAt(text.charCodeAt(i), i, s, stop, quotes)) return -1 - i;
        s = 0;
        continue;
      }
      s = s < denseCount ? dense[s * classes + k]! : this.step(s, k);
      if (emits[s] === 1) this.report(s, i + 1, onMatch);
    }
    return s;
  }

  /**
   * At a code unit in no pattern (the scan restarts after it): records where a JSON string
   * literal ends (`"`, with the state before it), and says whether the scan must stop here
   * (an invisible or other normalised character the caller rescans a copy without).
   */
  private stopsAt(c: number, i: number, s: number, stop: Uint8Array | null, quotes: number[] | null): boolean {
    if (c === 0x22) {
      if (quotes !== null) quotes.push(i, s);
      return false;
    }
    return stop !== null && c >= 0xad && stop[c] !== 0;
  }

  /**
   * Feeds one piece of a text read in another order (pieces that were each scanned on their
   * own before), `text[from, to)`, starting in `state`, and reports only what may begin
   * before the piece (`end` relative to `from`): matches are reported until the state stands
   * for text inside the piece alone (its depth is at most what was read of the piece). From
   * there on the scan is the scan of the piece on its own, which found everything inside it
   * already. Returns the state after the piece: `alone` when the caller knows the state a scan
   * of the piece alone ends in (-1: not known), else read off the piece's last `maxLength`
   * code units (no state is deeper).
   */
  scanAcross(text: string, from: number, to: number, state: number, onMatch: MatchCallback, alone: number): number {
    let s = state;
    let i = from;
    if (s !== 0) {
      const classOf = this.classOf;
      const dense = this.dense;
      const classes = this.classes;
      const denseCount = this.denseCount;
      const depth = this.depth;
      while (i < to) {
        const k = classOf[text.charCodeAt(i)]!;
        i++;
        if (k === 0) {
          s = 0;
          break;
        }
        s = s < denseCount ? dense[s * classes + k]! : this.step(s, k);
        if (this.emits[s] === 1) this.report(s, i - from, onMatch);
        if (depth[s]! <= i - from) break;
      }
      // The piece ended inside a match that began before it.
      if (depth[s]! > i - from) return s;
    }
    if (alone >= 0) return alone;
    const tail = Math.max(i, to - this.maxLength);
    return this.scanStopping(text, tail, to, tail === i ? s : 0, ignoreMatch, null);
  }

  /**
   * `state`, reached at the end of a scan of `length` code units, when it is also the state a
   * scan of those units alone (from the start state) ends in: when it stands for no more text
   * than was read. Otherwise -1.
   */
  aloneEnd(state: number, length: number): number {
    return this.depth[state]! <= length ? state : -1;
  }

  private step(state: number, k: number): number {
    return follow(this.transitions, state, k);
  }

  private report(state: number, end: number, onMatch: MatchCallback): void {
    for (let s = state; s !== -1; s = this.dictLink[s]!) {
      for (let p = this.terminal[s]!; p !== -1; p = this.nextTerminal[p]!) onMatch(p, end);
    }
  }
}

interface Tables {
  states: number;
  lengths: Int32Array;
  classOf: Uint16Array;
  classes: number;
  dense: Int32Array;
  denseCount: number;
  edgeStart: Int32Array;
  edgeClass: Uint16Array;
  fail: Int32Array;
  terminal: Int32Array;
  nextTerminal: Int32Array;
  dictLink: Int32Array;
  emits: Uint8Array;
  depth: Int32Array;
}

// The build is split into small per-item functions on purpose: V8 optimizes a function
// called many times; one huge constructor with nested loops is optimized on stack, deopts
// at every loop exit and runs mostly interpreted (seconds instead of milliseconds for a
// million states).

function build(patterns: readonly string[], fold: boolean, digits: boolean, budget: number): Tables {
  // 1. Character classes.
  const classOf = new Uint16Array(65536);
  const lengths = new Int32Array(patterns.length);
  const counter = { classes: 1 };
  if (digits) for (let d = 0; d < 10; d++) classOf[0x30 + d] = counter.classes++;
  let total = 0;
  for (let p = 0; p < patterns.length; p++) {
    const pattern = patterns[p]!;
    if (pattern.length === 0) throw new RangeError('empty pattern');
    lengths[p] = pattern.length;
    total += pattern.length;
    classify(pattern, fold, classOf, counter);
  }
  if (fold) for (let c = 0x41; c <= 0x5a; c++) classOf[c] = classOf[c + 0x20]!;
  const classes = counter.classes;

  // 2. The trie.
  const trie = buildTrie(patterns, fold, classOf, total + 1);
  const states = trie.states;

  // 3. Breadth-first renumbering: children grouped by parent (counting sort), then BFS. In
  // BFS numbering every state but the root is the target of exactly one edge, and the edges
  // of a state point at consecutive ids: edge e (in CSR order) leads to state e + 1.
  const childStart = new Int32Array(states + 1);
  for (let s = 1; s < states; s++) childStart[trie.parent[s]! + 1] = childStart[trie.parent[s]! + 1]! + 1;
  for (let s = 0; s < states; s++) childStart[s + 1] = childStart[s + 1]! + childStart[s]!;
  const children = new Int32Array(Math.max(states - 1, 0));
  const fillAt = childStart.slice(0, states);
  for (let s = 1; s < states; s++) children[fillAt[trie.parent[s]!]!++] = s;
  const order = new Int32Array(states);
  const edgeStart = new Int32Array(states + 1);
  let tail = 1;
  for (let head = 0; head < states; head++) {
    const s = order[head]!;
    edgeStart[head] = tail - 1;
    tail = enqueueChildren(order, childStart, children, s, tail);
  }
  edgeStart[states] = states - 1;

  // 4. Edge labels and terminals by BFS id (edge e leads to state e + 1: no table of targets).
  const edgeClass = new Uint16Array(Math.max(states - 1, 0));
  for (let e = 0; e < states - 1; e++) edgeClass[e] = trie.viaClass[order[e + 1]!]!;
  const terminal = new Int32Array(states);
  const depth = new Int32Array(states);
  for (let id = 0; id < states; id++) {
    terminal[id] = trie.terminal[order[id]!]!;
    depth[id] = trie.depth[order[id]!]!;
  }

  // 5. Dense rows for the shallow states, within the budget.
  const depthCount: number[] = [];
  for (let s = 0; s < states; s++) {
    const d = trie.depth[s]!;
    while (depthCount.length <= d) depthCount.push(0);
    depthCount[d] = depthCount[d]! + 1;
  }
  let denseCount = 0;
  for (let d = 0; d < depthCount.length; d++) {
    const next = denseCount + depthCount[d]!;
    if (next * classes > budget && d > 0) break;
    denseCount = next;
  }

  // 6. Failure links, dictionary links and dense rows, in BFS order.
  const linker = new Linker(states, classes, denseCount, edgeStart, edgeClass, terminal);
  for (let s = 0; s < states; s++) linker.visit(s);

  return {
    states,
    lengths,
    classOf,
    classes,
    dense: linker.dense,
    denseCount,
    edgeStart,
    edgeClass,
    fail: linker.fail,
    terminal,
    nextTerminal: trie.nextTerminal,
    dictLink: linker.dictLink,
    emits: linker.emits,
    depth,
  };
}

function classify(pattern: string, fold: boolean, classOf: Uint16Array, counter: { classes: number }): void {
  for (let i = 0; i < pattern.length; i++) {
    let c = pattern.charCodeAt(i);
    if (fold && c >= 0x41 && c <= 0x5a) c += 0x20;
    if (classOf[c] === 0) {
      if (counter.classes === 0xffff) throw new RangeError('too many distinct characters');
      classOf[c] = counter.classes++;
    }
  }
}

function enqueueChildren(order: Int32Array, childStart: Int32Array, children: Int32Array, s: number, tail: number): number {
  const end = childStart[s + 1]!;
  let t = tail;
  for (let e = childStart[s]!; e < end; e++) order[t++] = children[e]!;
  return t;
}

function asciiLower(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : s[i];
  }
  return out;
}

interface Trie {
  states: number;
  parent: Int32Array;
  viaClass: Uint16Array;
  depth: Int32Array;
  /** First pattern ending at a state (by build id), or -1; then `nextTerminal`. */
  terminal: Int32Array;
  nextTerminal: Int32Array;
}

/**
 * The trie of the patterns, built from the patterns in sorted order: each pattern shares its
 * longest common prefix with the previous one, so only the rest needs new states (no hash
 * table, linear in the total length after the sort).
 */
function buildTrie(patterns: readonly string[], fold: boolean, classOf: Uint16Array, maxStates: number): Trie {
  const keys = fold ? patterns.map(asciiLower) : patterns;
  const sorted = Array.from(keys.keys()).sort((x, y) => (keys[x]! < keys[y]! ? -1 : keys[x]! > keys[y]! ? 1 : x - y));
  const trie: Trie = {
    states: 1,
    parent: new Int32Array(maxStates),
    viaClass: new Uint16Array(maxStates),
    depth: new Int32Array(maxStates),
    terminal: new Int32Array(maxStates).fill(-1),
    nextTerminal: new Int32Array(patterns.length).fill(-1),
  };
  // path[d]: the state at depth d along the previous pattern (path[0]: the root).
  let maxLength = 0;
  for (const k of keys) maxLength = Math.max(maxLength, k.length);
  const path = new Int32Array(maxLength + 1);
  let previous = '';
  for (let r = 0; r < sorted.length; r++) {
    const p = sorted[r]!;
    const key = keys[p]!;
    previous = insertSorted(trie, key, previous, path, classOf, p);
  }
  return trie;
}

function insertSorted(trie: Trie, key: string, previous: string, path: Int32Array, classOf: Uint16Array, p: number): string {
  let common = 0;
  const limit = Math.min(key.length, previous.length);
  while (common < limit && key.charCodeAt(common) === previous.charCodeAt(common)) common++;
  let s = path[common]!;
  for (let i = common; i < key.length; i++) {
    const t = trie.states++;
    trie.parent[t] = s;
    trie.viaClass[t] = classOf[key.charCodeAt(i)]!;
    trie.depth[t] = i + 1;
    path[i + 1] = t;
    s = t;
  }
  trie.nextTerminal[p] = trie.terminal[s]!;
  trie.terminal[s] = p;
  return key;
}

/** Failure links, dictionary links and dense rows, filled state by state in BFS order. */
class Linker {
  readonly dense: Int32Array;
  readonly fail: Int32Array;
  readonly dictLink: Int32Array;
  readonly emits: Uint8Array;
  private readonly transitions: Transitions;

  constructor(
    states: number,
    private readonly classes: number,
    private readonly denseCount: number,
    private readonly edgeStart: Int32Array,
    private readonly edgeClass: Uint16Array,
    private readonly terminal: Int32Array,
  ) {
    this.dense = new Int32Array(denseCount * classes);
    this.fail = new Int32Array(states);
    this.dictLink = new Int32Array(states).fill(-1);
    this.emits = new Uint8Array(states);
    this.transitions = { dense: this.dense, denseCount, classes, edgeStart, edgeClass, fail: this.fail };
  }

  visit(s: number): void {
    const { classes, dense, edgeStart, edgeClass } = this;
    if (s < this.denseCount) {
      const row = s * classes;
      // The root's missing classes stay 0 (back to the root); other rows start as their
      // failure state's row (already complete: it is shallower).
      if (s !== 0) dense.copyWithin(row, this.fail[s]! * classes, this.fail[s]! * classes + classes);
      for (let e = edgeStart[s]!; e < edgeStart[s + 1]!; e++) dense[row + edgeClass[e]!] = e + 1;
    }
    for (let e = edgeStart[s]!; e < edgeStart[s + 1]!; e++) {
      const t = e + 1;
      const f = s === 0 ? 0 : this.delta(this.fail[s]!, edgeClass[e]!);
      this.fail[t] = f;
      this.dictLink[t] = this.terminal[f] !== -1 ? f : this.dictLink[f]!;
      this.emits[t] = this.terminal[t] !== -1 || this.dictLink[t] !== -1 ? 1 : 0;
    }
  }

  private delta(state: number, k: number): number {
    return follow(this.transitions, state, k);
  }
}

/** The tables a transition reads: dense rows for the shallow states, sorted edges and failure links for the rest. */
interface Transitions {
  readonly dense: Int32Array;
  readonly denseCount: number;
  readonly classes: number;
  readonly edgeStart: Int32Array;
  readonly edgeClass: Uint16Array;
  readonly fail: Int32Array;
}

/** The state after reading class `k` in `state`: its own edge, else its failure state's, down to a dense row. */
function follow(t: Transitions, state: number, k: number): number {
  let s = state;
  for (;;) {
    if (s < t.denseCount) return t.dense[s * t.classes + k]!;
    const end = t.edgeStart[s + 1]!;
    for (let e = t.edgeStart[s]!; e < end; e++) if (t.edgeClass[e] === k) return e + 1;
    s = t.fail[s]!;
  }
}
