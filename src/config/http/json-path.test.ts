import { describe, expect, it } from 'vitest';
import { parseJsonPath, selectJsonPaths } from './json-path.js';

const doc = {
  items: [
    { id: 'inv-1', amount: 10, customer: { name: 'ACME', email: 'a@acme.test' }, internalNote: 'late' },
    { id: 'inv-2', amount: 20, customer: { name: 'Globex', email: 'g@globex.test' }, internalNote: '' },
  ],
  total: 30,
  secret: 'x',
};

const pick = (...paths: string[]) => JSON.parse(JSON.stringify(selectJsonPaths(doc, paths.map(parseJsonPath)) ?? null));

describe('JSONPath field allow-list', () => {
  it('keeps only the selected fields, in the document shape', () => {
    expect(pick('$.items[*].id', '$.items[*].customer.name', '$.total')).toEqual({
      items: [
        { id: 'inv-1', customer: { name: 'ACME' } },
        { id: 'inv-2', customer: { name: 'Globex' } },
      ],
      total: 30,
    });
    expect(pick("$['total']")).toEqual({ total: 30 });
    expect(pick('$.items[1].amount')).toEqual({ items: [{ amount: 20 }] });
    expect(pick('$.items[*].customer')).toEqual({ items: [{ customer: doc.items[0]?.customer }, { customer: doc.items[1]?.customer }] });
    expect(pick('$')).toEqual(doc);
    expect(pick('$.*')).toEqual(doc);
    expect(pick('$.nothing')).toBeNull();
  });

  it('a __proto__ member is data, not a prototype', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}');
    const out = selectJsonPaths(hostile, [parseJsonPath("$['__proto__']"), parseJsonPath('$.ok')]) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBeNull();
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":true},"ok":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    '',
    'items',
    '$..id',
    '$.items[?(@.a)]',
    '$.items[0:2]',
    '$.a.',
    '$[',
    "$['a",
    '$.items[-1]',
    '$.a b',
    `$${'.a'.repeat(40)}`,
    `$.${'a'.repeat(300)}`,
    "$['a\\'b']",
  ])('refuses %j with a clear message', (path) => {
    expect(() => parseJsonPath(path)).toThrow(/JSONPath/);
  });

  it('stays linear on a large, deep document', () => {
    const big = { items: Array.from({ length: 50_000 }, (_, i) => ({ id: i, x: { y: { z: i } }, junk: 'j'.repeat(10) })) };
    const started = performance.now();
    const out = selectJsonPaths(big, [parseJsonPath('$.items[*].x.y.z'), parseJsonPath('$.items[*].id')]) as { items: unknown[] };
    expect(out.items).toHaveLength(50_000);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
