import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonExtended, canonicalJsonLenient, canonicalJsonProblem, CanonicalJsonError, MAX_CANONICAL_DEPTH } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"z":1}]},"b":1}');
  });

  it('is insensitive to key insertion order and round-trips through JSON.parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        const shuffled = JSON.parse(JSON.stringify(value), function (this: unknown, _k, v: unknown) {
          if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).reverse());
          return v;
        }) as unknown;
        expect(canonicalJson(shuffled)).toBe(text);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses cycles and non-finite numbers', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/non-finite/);
  });
});

/** JSON text nested `depth` levels deep, alternating arrays and objects. */
function deepJson(depth: number, leaf = '1'): string {
  let text = leaf;
  for (let i = 0; i < depth; i++) text = i % 2 === 0 ? `[${text}]` : `{"k":${text}}`;
  return text;
}

/** Any JSON-like value, with the numbers a JSON parser can produce from a client's text: ±Infinity (1e400), -0. */
const clientValue = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e308, 5e-324),
    fc.double(),
    fc.string({ unit: 'binary' }),
    fc.constantFrom('\ud800', '\udfff', 'a\ud83d', '😀', '__proto__'),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toJSON', '\ud800')), tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('canonical JSON on anything a client can send', () => {
  it('the extended and lenient forms equal canonicalJson on every JSON value, and nothing is reported as a problem', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJsonProblem(value)).toBeUndefined();
        expect(canonicalJsonExtended(value)).toBe(text);
        expect(canonicalJsonLenient(value)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws: a problem is reported exactly when canonicalJson refuses, and the other forms always answer', () => {
    fc.assert(
      fc.property(clientValue, (value) => {
        let strict: string | undefined;
        let refused: unknown;
        try {
          strict = canonicalJson(value);
        } catch (error) {
          refused = error;
        }
        const problem = canonicalJsonProblem(value);
        if (refused === undefined) expect(problem).toBeUndefined();
        else {
          expect(refused).toBeInstanceOf(CanonicalJsonError);
          expect(problem).toBe((refused as CanonicalJsonError).problem);
        }
        const extended = canonicalJsonExtended(value);
        const lenient = canonicalJsonLenient(value);
        expect(() => JSON.parse(lenient) as unknown).not.toThrow();
        if (strict !== undefined) {
          expect(extended).toBe(strict);
          expect(lenient).toBe(strict);
        } else {
          // The extension tokens are not JSON: no canonical text of any value equals it.
          expect(() => JSON.parse(extended) as unknown).toThrow();
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reports nesting past the limit and non-finite numbers, at any depth or position', () => {
    expect(canonicalJsonProblem(JSON.parse(deepJson(MAX_CANONICAL_DEPTH)))).toBeUndefined();
    expect(canonicalJsonProblem(JSON.parse(deepJson(MAX_CANONICAL_DEPTH + 2)))).toBe('too_deep');
    expect(canonicalJsonProblem(JSON.parse('{"n":1e400}'))).toBe('non_finite_number');
    expect(canonicalJsonProblem(JSON.parse('[1,{"a":[-1e400]}]'))).toBe('non_finite_number');
    expect(canonicalJsonProblem(JSON.parse(deepJson(30, '1e999')))).toBe('non_finite_number');
    expect(canonicalJsonProblem(JSON.parse('{"z":-0,"__proto__":{"x":"\\ud800"}}'))).toBeUndefined();
  });

  it('handles a hundred thousand levels of nesting without exhausting the stack', () => {
    const deep = JSON.parse(deepJson(100_000)) as unknown;
    expect(canonicalJsonProblem(deep)).toBe('too_deep');
    expect(canonicalJsonLenient(deep)).toContain('"[depth limit]"');
    const extended = canonicalJsonExtended(deep);
    expect(extended.length).toBeGreaterThan(400_000);
    expect(extended.endsWith(']}]}')).toBe(true);
  });

  it('keeps a "__proto__" member as a member, and tells it apart from none', () => {
    const withProto = JSON.parse('{"__proto__":{"admin":true},"a":1}') as unknown;
    expect(canonicalJson(withProto)).toBe('{"__proto__":{"admin":true},"a":1}');
    expect(canonicalJsonExtended(withProto)).toBe('{"__proto__":{"admin":true},"a":1}');
  });

  it('serializes -0, lone surrogates, wide objects and big strings', () => {
    expect(canonicalJson({ z: -0 })).toBe('{"z":0}');
    expect(canonicalJson('\ud800x')).toBe('"\\ud800x"');
    const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    expect(canonicalJson(wide).length).toBeGreaterThan(1_000_000);
    expect(canonicalJsonExtended(wide)).toBe(canonicalJson(wide));
    const big = 'x'.repeat(4 << 20);
    expect(canonicalJson({ big }).length).toBe(big.length + 10);
  });

  it('writes non-finite numbers as descriptions in the lenient form and as bare tokens in the extended one', () => {
    const value = JSON.parse('{"a":1e400,"b":[-1e400]}') as unknown;
    expect(canonicalJsonLenient(value)).toBe('{"a":"[Infinity]","b":["[-Infinity]"]}');
    expect(canonicalJsonExtended(value)).toBe('{"a":Infinity,"b":[-Infinity]}');
    expect(canonicalJsonExtended({ a: null })).not.toBe(canonicalJsonExtended(value));
  });
});
