// `rebuild` copies only the containers on the way to a change. Checked against a reference
// that rebuilds every container (the same leaf numbering as `collectLeaves`): the same value
// for any replaced and dropped leaves, and every container without a change below it shared.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectLeaves, rebuild } from './leaves.js';

const ITEM_BODY = new Set(['text', 'blob', 'data', 'uri']);
const GONE = Symbol('gone');

/** Every container rebuilt; a member goes when its name or its string value is dropped. */
function reference(root: unknown, replaced: ReadonlyMap<number, string>, dropped: ReadonlySet<number>): unknown {
  let index = 0;
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const i = index++;
      return dropped.has(i) ? GONE : (replaced.get(i) ?? value);
    }
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(walk).filter((x) => x !== GONE);
    const out: Record<string, unknown> = {};
    const used = new Set<string>();
    let itemGone = false;
    for (const key of Object.keys(value)) {
      const k = index++;
      const next = walk((value as Record<string, unknown>)[key]);
      if (dropped.has(k) || next === GONE) {
        // The item goes, after its other members were numbered.
        if (ITEM_BODY.has(key) && typeof (value as Record<string, unknown>).type === 'string') itemGone = true;
        continue;
      }
      const name = replaced.get(k) ?? key;
      let unique = name;
      for (let n = 2; used.has(unique); n++) unique = `${name} (${n})`;
      used.add(unique);
      out[unique] = next;
    }
    return itemGone ? GONE : out;
  };
  const out = walk(root);
  return out === GONE ? null : out;
}

/** Leaves in `value` (strings and member names), numbered as `collectLeaves` numbers them. */
function leafCount(value: unknown): number {
  if (typeof value === 'string') return 1;
  if (value === null || typeof value !== 'object') return 0;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + leafCount(v), 0);
  return Object.values(value).reduce((n: number, v) => n + 1 + leafCount(v), 0);
}

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('a', 'b', 'text', 'x@example.com'),
    fc.integer(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'text', 'type', 'data', '[M]'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('rebuild', () => {
  it('equals rebuilding every container, and shares every container with no change below it', () => {
    fc.assert(
      fc.property(json, fc.array(fc.nat()), fc.array(fc.nat()), fc.constantFrom('[M]', 'a', 'z'), (root, replace, drop, placeholder) => {
        const count = collectLeaves(root).length;
        const replaced = new Map(count === 0 ? [] : replace.map((r) => [r % count, placeholder] as const));
        const dropped = new Set(count === 0 ? [] : drop.map((d) => d % count));
        const out = rebuild(root, replaced, dropped);
        expect(JSON.stringify(out)).toBe(JSON.stringify(reference(root, replaced, dropped)));
        if (replaced.size === 0 && dropped.size === 0) expect(out).toBe(root);
        // A member of a top-level object with no change in its name or below it: the same object.
        if (root !== null && typeof root === 'object' && !Array.isArray(root) && out !== null) {
          let at = 0;
          for (const member of Object.values(root)) {
            const end = at + 1 + leafCount(member);
            const untouched = [...replaced.keys(), ...dropped].every((i) => i < at || i >= end);
            if (untouched && member !== null && typeof member === 'object') expect(Object.values(out as object)).toContain(member);
            at = end;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('drops a member whose name was dropped even when nothing else in its object changed', () => {
    const root = { outer: { 'x@example.com': 'clean' }, other: { ok: 'yes' } };
    const leaves = collectLeaves(root);
    const nameIndex = leaves.findIndex((l) => l.key && l.text === 'x@example.com');
    const out = rebuild(root, new Map(), new Set([nameIndex])) as typeof root;
    expect(out).toEqual({ outer: {}, other: { ok: 'yes' } });
    expect(out.other).toBe(root.other);
    expect(root.outer).toEqual({ 'x@example.com': 'clean' });
  });
});
