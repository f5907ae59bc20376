import { describe, expect, it } from 'vitest';
import { InputSchemaValidator } from './input-schema.js';

describe('InputSchemaValidator', () => {
  const v = new InputSchemaValidator();
  const add = { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'], additionalProperties: false };

  it('accepts valid arguments (2020-12 by default)', () => {
    expect(v.check('echo__add', add, { a: 1, b: 2 })).toEqual({ ok: true });
  });

  it('explains what is wrong, with the path of each problem', () => {
    expect(v.check('echo__add', add, { a: '1' })).toEqual({
      ok: false,
      kind: 'invalid',
      message: 'Invalid arguments for tool "echo__add": arguments must have required property \'b\'; arguments.a must be number.',
    });
    expect(v.check('echo__add', add, { a: 1, b: 2, c: 3 })).toMatchObject({
      ok: false,
      message: expect.stringContaining('must NOT have additional properties ("c")'),
    });
  });

  it('supports 2020-12 keywords (prefixItems, unevaluatedProperties) and draft-07 schemas from older SDKs', () => {
    const tuple = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { p: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }] } },
      unevaluatedProperties: false,
    };
    expect(v.check('t', tuple, { p: ['x', 1] })).toEqual({ ok: true });
    expect(v.check('t', tuple, { p: [1, 'x'] })).toMatchObject({ ok: false });
    expect(v.check('t', tuple, { p: ['x', 1], q: 1 })).toMatchObject({ ok: false });
    const draft7 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { n: { type: 'integer', maximum: 5 } } };
    expect(v.check('t', draft7, { n: 9 })).toMatchObject({ ok: false, message: expect.stringContaining('arguments.n must be <= 5') });
  });

  it('fails closed on a schema it cannot compile', () => {
    expect(v.check('t', { $schema: 'https://example.com/my-dialect', type: 'object' }, {})).toMatchObject({ ok: false, kind: 'unusable_schema' });
    expect(v.check('t', { type: 'object', properties: { a: { $ref: 'https://evil.example/schema.json' } } }, { a: 1 })).toMatchObject({
      ok: false,
      kind: 'unusable_schema',
    });
  });

  it('runs upstream patterns in linear time: a catastrophic pattern against a hostile argument answers at once', () => {
    // With V8's backtracking engine this pair takes longer than the universe has left; on RE2
    // it is one linear pass (the bound is only there to fail loudly, not to measure).
    const evil = { type: 'object', properties: { s: { type: 'string', pattern: '^(a+)+$' } }, patternProperties: { '^(x|x)*$': { type: 'string' } } };
    const hostile = `${'a'.repeat(50_000)}!`;
    const started = performance.now();
    expect(v.check('t', evil, { s: hostile })).toMatchObject({
      ok: false,
      kind: 'invalid',
      message: expect.stringContaining('arguments.s must match pattern'),
    });
    expect(v.check('t', evil, { [`${'x'.repeat(50_000)}!`]: 'v' })).toEqual({ ok: true });
    expect(performance.now() - started).toBeLessThan(5_000);
    // Search semantics, as ECMA-262 `test`: an unanchored pattern matches anywhere.
    expect(v.check('t', { type: 'string', pattern: 'b+' }, 'aaabbb')).toEqual({ ok: true });
    expect(v.check('t', { type: 'string', pattern: '^b+$' }, 'aaabbb')).toMatchObject({ ok: false });
    // Each pattern is its own: two in one schema are both enforced.
    const two = { type: 'object', properties: { a: { type: 'string', pattern: '^a+$' }, b: { type: 'string', pattern: '^b+$' } } };
    expect(v.check('t', two, { a: 'aa', b: 'bb' })).toEqual({ ok: true });
    expect(v.check('t', two, { a: 'aa', b: 'aa' })).toMatchObject({ ok: false, message: expect.stringContaining('arguments.b must match pattern "^b+$"') });
  });

  it('fails closed on a pattern RE2 cannot run (lookaround, backreferences): nothing unchecked is forwarded', () => {
    expect(v.check('t', { type: 'object', properties: { s: { type: 'string', pattern: '^(?!admin).*$' } } }, { s: 'x' })).toMatchObject({
      ok: false,
      kind: 'unusable_schema',
    });
    expect(v.check('t', { type: 'object', properties: { s: { type: 'string', pattern: '(a)\\1' } } }, { s: 'aa' })).toMatchObject({
      ok: false,
      kind: 'unusable_schema',
    });
  });

  it('compiles two tools that share a $id independently', () => {
    const one = { $id: 'urn:x', type: 'object', properties: { a: { type: 'string' } } };
    const two = { $id: 'urn:x', type: 'object', properties: { a: { type: 'number' } } };
    expect(v.check('one', one, { a: 'x' })).toEqual({ ok: true });
    expect(v.check('two', two, { a: 1 })).toEqual({ ok: true });
  });
});
