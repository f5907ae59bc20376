import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED, secrets } from '../log/index.js';
import { canonicalJson } from './canonical-json.js';
import { argumentsProblem, hashArguments, looksSecret, MAX_STRING, redactArguments, scrubStrings } from './redact-arguments.js';

function deepJson(depth: number, leaf = '1'): string {
  let text = leaf;
  for (let i = 0; i < depth; i++) text = i % 2 === 0 ? `[${text}]` : `{"k":${text}}`;
  return text;
}

/** What a JSON parser can hand the gateway from a client's request body. */
const clientJson = fc
  .tuple(
    fc.jsonValue(),
    fc.array(fc.constantFrom('1e400', '-1e400', '-0', '"\\ud800"', '{"__proto__":{"x":1}}', deepJson(80), deepJson(3000)), { maxLength: 3 }),
  )
  .map(([value, extras]) => JSON.parse(`[${[JSON.stringify(value), ...extras].join(',')}]`) as unknown);

describe('describing arguments is total', () => {
  it('redactArguments, hashArguments and argumentsProblem never throw, and the redacted form always serializes', () => {
    fc.assert(
      fc.property(clientJson, (args) => {
        const redacted = redactArguments(args);
        expect(() => canonicalJson(redacted)).not.toThrow();
        expect(hashArguments(args)).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
        argumentsProblem(args);
        expect(() => canonicalJson(scrubStrings(JSON.parse(canonicalJson(redacted))))).not.toThrow();
      }),
      { numRuns: 400 },
    );
  });

  it('hashes tell apart arguments that differ only where canonical JSON cannot go', () => {
    const hash = (text: string) => hashArguments(JSON.parse(text));
    expect(hash('{"n":1e400}')).not.toBe(hash('{"n":null}'));
    expect(hash('{"n":1e400}')).not.toBe(hash('{"n":-1e400}'));
    expect(hash(`{"d":${deepJson(5000, '1')}}`)).not.toBe(hash(`{"d":${deepJson(5000, '2')}}`));
    expect(hash('{"__proto__":{"x":1}}')).not.toBe(hash('{}'));
    expect(hash('{"a":1,"b":2}')).toBe(hash('{"b":2,"a":1}'));
    expect(hash(deepJson(100_000))).toBe(hash(deepJson(100_000)));
  });

  it('names the problem with arguments that cannot be recorded exactly', () => {
    expect(argumentsProblem(JSON.parse(`{"a":${deepJson(100)}}`))).toBe('too_deep');
    expect(argumentsProblem(JSON.parse('{"a":[1e400]}'))).toBe('non_finite_number');
    expect(argumentsProblem(JSON.parse('{"a":-0,"b":"\\udfff","__proto__":[]}'))).toBeUndefined();
    expect(argumentsProblem(undefined)).toBeUndefined();
  });

  it('records non-finite numbers, "__proto__" members and lone surrogates as what they are', () => {
    const redacted = redactArguments(JSON.parse('{"n":1e400,"m":-1e400,"__proto__":{"admin":true},"s":"\\ud800"}')) as Record<string, unknown>;
    expect(redacted.n).toBe('[Infinity]');
    expect(redacted.m).toBe('[-Infinity]');
    expect(Object.hasOwn(redacted, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(redacted)).toBeNull();
    expect(canonicalJson(redacted)).toBe('{"__proto__":{"admin":true},"m":"[-Infinity]","n":"[Infinity]","s":"\\ud800"}');
  });

  it('bounds depth, width and string length', () => {
    const wide = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 'v'.repeat(5000)]));
    const redacted = redactArguments(wide) as Record<string, string>;
    expect(Object.keys(redacted)).toHaveLength(101);
    expect(redacted['…']).toBe('[49900 more keys]');
    expect(redacted.k0?.length).toBeLessThanOrEqual(MAX_STRING + 30);
    expect(canonicalJson(redactArguments(JSON.parse(deepJson(100_000))))).toContain('[depth limit]');
  });
});

describe('credentials in arguments', () => {
  const SECRET = 'vault-value-Zq81-0k';
  beforeAll(() => secrets.register(SECRET));
  afterAll(() => secrets.unregister(SECRET));

  it('are replaced in values and in argument names', () => {
    const redacted = redactArguments({ [`k ${SECRET}`]: 'x', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln': 'y', note: `see ${SECRET}` });
    const text = canonicalJson(redacted);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('eyJzdWIiOiJ4In0');
    expect(text).toContain('"note":"see [REDACTED]"');
  });

  it('keeps two names that redact alike as two members', () => {
    const redacted = redactArguments({ [`a ${SECRET}`]: 1, [`a ${SECRET} `.trim()]: 1, [`b ${SECRET}`]: 2, 'b [REDACTED]': 3 }) as Record<string, unknown>;
    expect(Object.values(redacted).sort()).toEqual([1, 2, 3]);
  });

  it('recognises a URL with a password whatever comes before its scheme', () => {
    for (const value of [
      'postgres://admin:hunter2@db:5432/x',
      'DSN=mysql://u:p@h/db',
      '1https://u:p@h',
      'x+svn+ssh://me:pw@host',
      `${'a+'.repeat(1000)}ftp://u:p@h`,
    ]) {
      expect(looksSecret(value), value).toBe(true);
      expect(redactArguments({ v: value })).toEqual({ v: REDACTED });
    }
    // Far past the cut, the credential is not kept in the record at all.
    const far = `${'a+'.repeat(10_000)}ftp://u:p@h`;
    expect(looksSecret(far)).toBe(true);
    expect(canonicalJson(redactArguments({ v: far }))).not.toContain('u:p@h');
    for (const value of ['https://example.com/a:b@c', 'mailto:someone@example.com', 'a://b', 'ns:name@host']) expect(looksSecret(value), value).toBe(false);
  });

  it('finds a URL with a password exactly where the single pattern it replaces did (generated strings)', () => {
    const original = /(?<![a-z0-9+.-])[a-z0-9+.-]+:\/\/[^/\s:@]+:[^/\s@]+@/i;
    // Only characters none of the other credential shapes can be made of, so looksSecret is the URL check alone.
    const unit = fc.constantFrom('a', 'A', 'z', '1', '+', '.', '-', ':', '/', '@', ' ', '\u00a0', '\n', '\t', '_', '%', '\u2028', 'é');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (value) => {
        expect(looksSecret(value), JSON.stringify(value)).toBe(original.test(value));
      }),
      { numRuns: 20_000 },
    );
    // Dense cases the generator reaches rarely: every `://` with and without userinfo after it.
    for (const value of [
      'a://u:p@',
      'A://u:p@h',
      '://u:p@h',
      ' a://u:p@',
      'a:// u:p@',
      'a://u :p@',
      'a://u:p @',
      'a://u:@',
      'a://:p@',
      'a://u:p/@',
      'é://u:p@',
      'a.://u:p@',
      'x:// a://u:p@',
    ]) {
      expect(looksSecret(value), value).toBe(original.test(value));
    }
  });

  it('recognises the credential shapes it always did', () => {
    expect(looksSecret('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).toBe(true);
    expect(looksSecret('eyJhbGc.eyJzdWIiOiJ4In0.')).toBe(false);
    expect(looksSecret('AKIAABCDEFGHIJKLMNOP')).toBe(true);
    expect(looksSecret(`ghp_${'a'.repeat(36)}`)).toBe(true);
    expect(looksSecret('-----BEGIN RSA PRIVATE KEY-----')).toBe(true);
    expect(looksSecret('an ordinary sentence')).toBe(false);
  });
});
