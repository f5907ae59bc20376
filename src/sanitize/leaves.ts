// The string leaves of a JSON-like message, in document order (each object key just before
// its value), and the rebuild that puts changed leaves back. Keys are leaves too: a server
// can put anything in a key, and a value split across a key and its value is still one text
// to the detectors (they carry their state from one leaf to the next).

import { SanitizeError } from './errors.js';

/** Nesting deeper than this is refused rather than walked (the caller withholds the message). */
export const MAX_DEPTH = 1000;

export interface Leaf {
  text: string;
  key: boolean;
  /** The member name a value sits under (undefined in arrays and for keys). */
  member: string | undefined;
  /** Where in the message shape the leaf sits, array positions ignored (`content[*].text`). */
  shape: number;
}

/**
 * Numbers the places of a message's shape: one id per (parent shape, step), so strings at the
 * same place in different records (`content[*].text`) share an id. Ids start at 1 (0: the root).
 */
export function shapeInterner(): (parent: number, step: string) => number {
  // Per parent id (ids are dense), the ids of its steps: no key string built per question.
  const byParent: (Map<string, number> | undefined)[] = [];
  let next = 1;
  return (parent, step) => {
    let steps = byParent[parent];
    if (steps === undefined) byParent[parent] = steps = new Map();
    let id = steps.get(step);
    if (id === undefined) {
      id = next++;
      steps.set(step, id);
    }
    return id;
  };
}

/**
 * The string leaves of `root`. With `numbers`, the same walk also appends every JSON number as
 * JSON writes it, in the order `rebuild` numbers them (its `numbers` argument): a card or phone
 * number sent as a JSON number is data too. Not finite ones (JSON writes them as `null`) give
 * empty text.
 */
export function collectLeaves(root: unknown, numbers?: string[]): Leaf[] {
  const leaves: Leaf[] = [];
  const shapeOf = shapeInterner();
  const walk = (value: unknown, shape: number, depth: number, member: string | undefined): void => {
    if (typeof value === 'string') {
      leaves.push({ text: value, key: false, member, shape });
      return;
    }
    if (typeof value === 'number') {
      numbers?.push(Number.isFinite(value) ? String(value) : '');
      return;
    }
    if (value === null || typeof value !== 'object') return;
    if (depth > MAX_DEPTH) throw new SanitizeError(`message nested deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(value)) {
      const items = shapeOf(shape, '[]');
      for (const item of value) walk(item, items, depth + 1, undefined);
      return;
    }
    const keys = shapeOf(shape, '{}');
    for (const key of Object.keys(value)) {
      leaves.push({ text: key, key: true, member: undefined, shape: keys });
      walk((value as Record<string, unknown>)[key], shapeOf(shape, `.${key}`), depth + 1, key);
    }
  };
  walk(root, 0, 0, undefined);
  return leaves;
}

/** The numbers of a message as `collectLeaves` collects them. */
export function collectNumbers(root: unknown): string[] {
  const numbers: string[] = [];
  collectLeaves(root, numbers);
  return numbers;
}

/** Numbers `rebuild` replaces (by a placeholder string) or drops, numbered as `collectNumbers` numbers them. */
export interface NumberChanges {
  readonly replaced: ReadonlyMap<number, string>;
  readonly dropped: ReadonlySet<number>;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // `__proto__` from JSON.parse is an own key; plain assignment would set the prototype instead.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const DROPPED = Symbol('dropped');
/** Members whose loss makes an MCP content item meaningless: the item goes instead. */
const ITEM_BODY = new Set(['text', 'blob', 'data', 'uri']);

/**
 * Rebuilds only the containers on the way to a changed leaf; everything else is shared.
 * `replaced`: new text by leaf index. `dropped`: leaf indexes whose member goes (a key or a
 * string value: the whole member; a string in an array: the element; the body of a content
 * item: the item).
 */
export function rebuild(root: unknown, replaced: ReadonlyMap<number, string>, dropped: ReadonlySet<number>, numbers?: NumberChanges): unknown {
  let index = 0;
  let numberIndex = 0;
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const i = index++;
      if (dropped.has(i)) return DROPPED;
      return replaced.get(i) ?? value;
    }
    if (typeof value === 'number' && numbers !== undefined) {
      const j = numberIndex++;
      if (numbers.dropped.has(j)) return DROPPED;
      return numbers.replaced.get(j) ?? value;
    }
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      // Copied only from the first changed item on.
      let out: unknown[] | null = null;
      for (let m = 0; m < value.length; m++) {
        const item: unknown = value[m];
        const next = walk(item);
        if (out === null && !Object.is(next, item)) {
          out = [];
          for (let e = 0; e < m; e++) out.push(value[e]);
        }
        if (out !== null && next !== DROPPED) out.push(next);
      }
      return out ?? value;
    }
    // Members are copied out only from the first change on (most objects have none).
    let entries: [string, unknown][] | null = null;
    let itemGone = false;
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    for (let m = 0; m < keys.length; m++) {
      const key = keys[m]!;
      const member = record[key];
      const k = index++;
      const newKey = replaced.get(k);
      const next = walk(member);
      const gone = dropped.has(k) || next === DROPPED;
      // A dropped member name is a change even when its value is not.
      if (entries === null && (newKey !== undefined || !Object.is(next, member) || gone)) {
        entries = [];
        for (let e = 0; e < m; e++) entries.push([keys[e]!, record[keys[e]!]]);
      }
      if (gone) {
        if (ITEM_BODY.has(key) && typeof record.type === 'string') itemGone = true;
        continue;
      }
      if (entries !== null) entries.push([newKey ?? key, next]);
    }
    if (itemGone) return DROPPED;
    if (entries === null) return value;
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
  const out = walk(root);
  return out === DROPPED ? null : out;
}
