import type { Match, Matcher } from './matcher.js';

/** Nesting deeper than this is refused rather than walked (the caller withholds the message). */
export const MAX_DEPTH = 1000;

export class SanitizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SanitizeError';
  }
}

/** `[REDACTED:<type>]`: the placeholder agent-visible output carries where something was removed. */
export function placeholder(type: string): string {
  return `[REDACTED:${type}]`;
}

interface Leaf {
  text: string;
  /** Object keys are leaves too: a server can put anything in a key. */
  key: boolean;
  /** The member name a value sits under (undefined in arrays and for keys). */
  member?: string | undefined;
  /** Where in the message shape the leaf sits, array positions ignored (`content[*].text`). */
  shape: number;
}

/** A piece of one leaf, `[from, to)`, as it appears in a stream. */
interface Segment {
  leaf: number;
  from: number;
  to: number;
}

function collect(root: unknown): Leaf[] {
  const leaves: Leaf[] = [];
  const shapes = new Map<string, number>();
  const shapeOf = (parent: number, step: string): number => {
    const key = `${parent}\u0000${step}`;
    let id = shapes.get(key);
    if (id === undefined) {
      id = shapes.size + 1;
      shapes.set(key, id);
    }
    return id;
  };
  const walk = (value: unknown, shape: number, depth: number, member?: string): void => {
    if (typeof value === 'string') {
      leaves.push({ text: value, key: false, shape, member });
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (depth > MAX_DEPTH) throw new SanitizeError(`message nested deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) {
      const items = shapeOf(shape, '[]');
      for (const item of value) walk(item, items, depth + 1);
      return;
    }
    const keys = shapeOf(shape, '{}');
    for (const [key, member] of Object.entries(value)) {
      leaves.push({ text: key, key: true, shape: keys });
      walk(member, shapeOf(shape, `.${key}`), depth + 1, key);
    }
  };
  walk(root, 0, 0);
  return leaves;
}

const whole = (leaves: readonly Leaf[], indices: Iterable<number>): Segment[] => {
  const out: Segment[] = [];
  for (const i of indices) out.push({ leaf: i, from: 0, to: (leaves[i] as Leaf).text.length });
  return out;
};

/** The string literals inside a leaf that holds JSON text (its escaped contents, in order). */
function literals(leaf: number, text: string): Segment[] {
  const out: Segment[] = [];
  let open = text.indexOf('"');
  while (open >= 0) {
    let at = open + 1;
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c === 0x5c) at += 2;
      else if (c === 0x22) break;
      else at++;
    }
    if (at >= text.length) break;
    out.push({ leaf, from: open + 1, to: at });
    open = text.indexOf('"', at + 1);
  }
  return out;
}

/**
 * The texts a split credential could be reassembled from, each a sequence of leaf pieces:
 * every string in document order (keys included); only the values; the strings of each
 * shape on their own (the `text` of every content item, the keys of one object kind); and the
 * string literals inside a leaf holding JSON text.
 */
function streams(leaves: readonly Leaf[]): Segment[][] {
  const out: Segment[][] = [];
  const all = leaves.map((_, i) => i);
  out.push(whole(leaves, all));
  const values = all.filter((i) => !(leaves[i] as Leaf).key);
  if (values.length > 1 && values.length < all.length) out.push(whole(leaves, values));
  const byShape = new Map<number, number[]>();
  for (const i of all) {
    const shape = (leaves[i] as Leaf).shape;
    let list = byShape.get(shape);
    if (!list) byShape.set(shape, (list = []));
    list.push(i);
  }
  for (const list of byShape.values()) if (list.length > 1 && list.length < all.length) out.push(whole(leaves, list));
  for (const i of all) {
    const text = (leaves[i] as Leaf).text;
    if (text.indexOf('"') === text.lastIndexOf('"')) continue;
    const found = literals(i, text);
    if (found.length > 1) out.push(found);
  }
  return out;
}

/** Records, per leaf, the pieces of `matches` (positions in the stream's concatenation) that fall in it. */
function assign(stream: readonly Segment[], starts: readonly number[], matches: readonly Match[], into: Map<number, Match[]>): void {
  for (const match of matches) {
    // First segment that ends after the match starts.
    let lo = 0;
    let hi = stream.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const segment = stream[mid] as Segment;
      if ((starts[mid] as number) + (segment.to - segment.from) <= match.start) lo = mid + 1;
      else hi = mid;
    }
    for (let s = lo; s < stream.length && (starts[s] as number) < match.end; s++) {
      const segment = stream[s] as Segment;
      const base = starts[s] as number;
      const from = Math.max(match.start, base) - base + segment.from;
      const to = Math.min(match.end, base + (segment.to - segment.from)) - base + segment.from;
      if (to <= from) continue;
      let list = into.get(segment.leaf);
      if (!list) into.set(segment.leaf, (list = []));
      list.push({ start: from, end: to, type: match.type });
    }
  }
}

function redactLeaf(text: string, ranges: Match[]): string {
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const range of ranges) {
    if (range.end <= at) continue;
    if (range.start >= at) {
      out += text.slice(at, range.start) + placeholder(range.type);
    }
    at = Math.max(at, range.end);
  }
  return out + text.slice(at);
}

/** MCP members that carry base64 (resource `blob`, image and audio `data`). */
const BASE64_MEMBERS = new Set(['blob', 'data']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A base64 member with something redacted in it becomes the base64 of the placeholder: still
 * valid base64 for the client, and nothing of the original bytes (a redacted middle would
 * leave undecodable fragments of them).
 */
function redactValue(leaf: Leaf, ranges: Match[]): string {
  if (leaf.member !== undefined && BASE64_MEMBERS.has(leaf.member) && leaf.text.length % 4 === 0 && BASE64.test(leaf.text)) {
    const types = [...new Set(ranges.map((r) => r.type))];
    return Buffer.from(types.map(placeholder).join(' ')).toString('base64');
  }
  return redactLeaf(leaf.text, ranges);
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // `__proto__` from JSON.parse is an own key; plain assignment would set the prototype instead.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Rebuilds only the containers on the way to a replaced leaf; everything else is shared. */
function rebuild(root: unknown, replaced: ReadonlyMap<number, string>): unknown {
  let index = 0;
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const replacement = replaced.get(index++);
      return replacement ?? value;
    }
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      let changed = false;
      const out = value.map((item) => {
        const next = walk(item);
        if (next !== item) changed = true;
        return next;
      });
      return changed ? out : value;
    }
    let changed = false;
    const entries: [string, unknown][] = [];
    for (const [key, member] of Object.entries(value)) {
      const newKey = replaced.get(index++);
      const next = walk(member);
      if (newKey !== undefined || next !== member) changed = true;
      entries.push([newKey ?? key, next]);
    }
    if (!changed) return value;
    const out: Record<string, unknown> = {};
    const used = new Set<string>();
    for (const [key, member] of entries) {
      let unique = key;
      // Two keys redacted to the same placeholder stay two members.
      for (let n = 2; used.has(unique); n++) unique = `${key} (${n})`;
      used.add(unique);
      setOwn(out, unique, member);
    }
    return out;
  };
  return walk(root);
}

/**
 * Cuts a stream into the stretches an occurrence across a boundary can lie in: a segment
 * longer than `2 × (reach)` keeps only `reach` characters at each end (its interior was
 * scanned on its own), and the stream breaks between them. Stretches of one segment are
 * dropped: nothing in them crosses a boundary.
 */
function boundaryChunks(stream: readonly Segment[], reach: number): Segment[][] {
  const chunks: Segment[][] = [];
  let current: Segment[] = [];
  const close = () => {
    if (current.length > 1) chunks.push(current);
    current = [];
  };
  for (const segment of stream) {
    if (segment.to - segment.from <= 2 * reach) {
      current.push(segment);
      continue;
    }
    current.push({ leaf: segment.leaf, from: segment.from, to: segment.from + reach });
    close();
    current.push({ leaf: segment.leaf, from: segment.to - reach, to: segment.to });
  }
  close();
  return chunks;
}

function scan(leaves: readonly Leaf[], chunk: readonly Segment[], matchers: readonly Matcher[], into: Map<number, Match[]>): void {
  const starts: number[] = [];
  const parts: string[] = [];
  let length = 0;
  for (const segment of chunk) {
    starts.push(length);
    const part = (leaves[segment.leaf] as Leaf).text.slice(segment.from, segment.to);
    parts.push(part);
    length += part.length;
  }
  const joined = parts.join('');
  for (const matcher of matchers) {
    const matches = matcher.find(joined);
    if (matches.length > 0) assign(chunk, starts, matches, into);
  }
}

/**
 * Every string of `value` — object keys included — with each occurrence of a pattern of
 * `matchers` replaced by its placeholder, also where the occurrence is split across
 * neighbouring strings: every string that holds a piece of it is redacted there. Returns
 * `value` itself when nothing matched.
 *
 * Each string is scanned once on its own; the streams (see `streams`) are then scanned only
 * around the boundaries between their pieces, so the cost stays close to one pass over the text.
 */
export function redactStrings<T>(value: T, matchers: readonly Matcher[]): T {
  const active = matchers.filter((m) => m.size > 0);
  if (active.length === 0) return value;
  if (typeof value === 'string') {
    const matches = active.flatMap((m) => m.find(value));
    return (matches.length === 0 ? value : redactLeaf(value, matches)) as T;
  }
  if (value === null || typeof value !== 'object') return value;
  const leaves = collect(value);
  if (leaves.length === 0) return value;
  const found = new Map<number, Match[]>();
  leaves.forEach((leaf, i) => {
    for (const matcher of active) {
      const matches = matcher.find(leaf.text);
      if (matches.length > 0) {
        let list = found.get(i);
        if (!list) found.set(i, (list = []));
        list.push(...matches);
      }
    }
  });
  // An occurrence crossing a boundary has fewer than `longest` characters on either side of it.
  const reach = Math.max(...active.map((m) => m.longest)) - 1;
  if (reach > 0) {
    for (const stream of streams(leaves)) for (const chunk of boundaryChunks(stream, reach)) scan(leaves, chunk, active, found);
  }
  if (found.size === 0) return value;
  const replaced = new Map<number, string>();
  for (const [leaf, ranges] of found) replaced.set(leaf, redactValue(leaves[leaf] as Leaf, ranges));
  return rebuild(value, replaced) as T;
}
