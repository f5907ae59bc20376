import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { heldTargets } from './held-encodings.js';
import { HeldValues } from './held-values.js';
import type { Finding } from './types.js';

const INVISIBLE = [
  '\u200b',
  '\u200c',
  '\u200d',
  '\u200e',
  '\u200f',
  '\u2060',
  '\u2061',
  '\u2062',
  '\u2063',
  '\u2064',
  '\ufeff',
  '\u00ad',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
];

function engineFor(...values: string[]): { engine: Engine; held: HeldValues } {
  const held = new HeldValues();
  for (const v of values) held.add(v);
  return { engine: new Engine({ held, detectors: { secret: false, pii: false } }), held };
}

/** The held findings' text in one segment. */
function heldTexts(segments: string[], findings: Finding[]): string[] {
  return findings.filter((f) => f.detector === 'held').map((f) => segments[f.segment]!.slice(f.start, f.end));
}

const VALUE = 's3cr3t P@ss/wörd+é"\\x';

describe('held values: encodings', () => {
  const { engine } = engineFor(VALUE);
  const bytes = Buffer.from(VALUE);
  const cases: [string, string][] = [
    ['plain', VALUE],
    ['reversed', [...VALUE].reverse().join('')],
    ['base64', bytes.toString('base64')],
    ['base64 unpadded', bytes.toString('base64').replace(/=+$/, '')],
    ['base64url', bytes.toString('base64url')],
    ['hex', bytes.toString('hex')],
    ['HEX', bytes.toString('hex').toUpperCase()],
    ['percent, every byte', [...bytes].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')],
    ['percent, lower-case hex', [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')],
    ['encodeURIComponent', encodeURIComponent(VALUE)],
    ['form encoding', new URLSearchParams({ k: VALUE }).toString().slice(2)],
    ['JSON.stringify', JSON.stringify(VALUE).slice(1, -1)],
    ['JSON \\u escapes', [...VALUE].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')],
    ['JSON \\U escapes', [...VALUE].map((c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`).join('')],
  ];
  for (const [name, encoded] of cases) {
    it(`finds the ${name} form and covers exactly it`, () => {
      const segments = [`before «${encoded}» after`];
      const found = engine.scan(segments).findings;
      expect(found.length).toBeGreaterThan(0);
      // Other encodings may match part of it too (\u002f vs \u002F share a prefix): the union
      // of the findings is exactly the encoded value.
      const start = Math.min(...found.map((f) => f.start));
      const end = Math.max(...found.map((f) => f.end));
      expect(segments[0]!.slice(start, end)).toBe(encoded);
    });
  }

  it('finds base64 and base64url at each of the three byte alignments inside a longer stream', () => {
    for (const url of [false, true]) {
      for (let a = 0; a < 3; a++) {
        const stream = Buffer.concat([Buffer.from('xyz'.slice(0, a)), bytes, Buffer.from('TAIL!')]).toString(url ? 'base64url' : 'base64');
        // The characters carrying the value's bits: from bit 8a to bit 8(a+n).
        const first = Math.floor((8 * a) / 6);
        const last = Math.ceil((8 * (a + bytes.length)) / 6);
        const segments = [`data:${stream};`];
        const found = engine.scan(segments).findings.filter((f) => f.detector === 'held');
        expect(found.length, `alignment ${a} ${url ? 'url' : 'std'}`).toBeGreaterThan(0);
        const covered = new Set<number>();
        for (const f of found) for (let i = f.start; i < f.end; i++) covered.add(i);
        for (let i = 5 + first; i < 5 + last; i++) expect(covered.has(i), `char ${i} at alignment ${a}`).toBe(true);
      }
    }
  });

  it('lists each target once (no duplicate patterns for forms that coincide)', () => {
    const targets = heldTargets('abcdefgh12345678').map((t) => t.text);
    expect(new Set(targets).size).toBe(targets.length);
    expect(targets[0]).toBe('abcdefgh12345678');
  });
});

describe('held values: matching rules', () => {
  it('ignores values shorter than the minimum (8 by default, configurable)', () => {
    const held = new HeldValues();
    held.add('short7!');
    held.add('exactly8');
    expect(held.compiled().ignored).toBe(1);
    const engine = new Engine({ held, detectors: { secret: false, pii: false } });
    expect(heldTexts(['short7! exactly8'], engine.scan(['short7! exactly8']).findings)).toEqual(['exactly8']);
    const strict = new HeldValues({ minLength: 12 });
    strict.add('exactly8');
    expect(strict.compiled().ignored).toBe(1);
    expect(() => new HeldValues({ minLength: 0 })).toThrow(RangeError);
  });

  it('finds a value through zero-width, bidi and combining characters, covering them', () => {
    const { engine } = engineFor('tok_9f8e7d6c5b4a3210');
    const s = 'x tok_9f\u200b8e7d\u202e6c5b4a\u2066321\u00ad0\u0301 y';
    const found = engine.scan([s]).findings;
    expect(found).toHaveLength(1);
    // Invisible characters inside are covered; the trailing combining mark is not part of it.
    expect(s.slice(found[0]!.start, found[0]!.end)).toBe('tok_9f\u200b8e7d\u202e6c5b4a\u2066321\u00ad0');
  });

  it('finds a value spelled in fullwidth forms or Unicode tag characters', () => {
    const { engine } = engineFor('tok_9f8e7d6c5b4a3210');
    const fullwidth = [...'tok_9f8e7d6c5b4a3210'].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
    const tags = [...'tok_9f8e7d6c5b4a3210'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
    for (const s of [`a ${fullwidth} b`, `hello${tags}world`]) {
      const found = engine.scan([s]).findings;
      expect(found).toHaveLength(1);
      expect(found[0]!.end - found[0]!.start).toBe(s.length - (s.startsWith('a') ? 4 : 10));
    }
  });

  it('marks every piece of a value split across consecutive segments, with one match id and the ref', () => {
    const held = new HeldValues();
    const ref = held.add({ value: 'correct-horse-battery-staple', type: 'lease_password', ref: 'lease:42' });
    expect(ref).toBe('lease:42');
    const engine = new Engine({ held, detectors: { secret: false, pii: false } });
    const segments = ['the password: correct-ho', 'rse-batt', '', 'ery-staple.', 'unrelated'];
    const { findings } = engine.scan(segments);
    expect(findings.map((f) => [f.segment, segments[f.segment]!.slice(f.start, f.end)])).toEqual([
      [0, 'correct-ho'],
      [1, 'rse-batt'],
      [3, 'ery-staple'],
    ]);
    expect(new Set(findings.map((f) => f.match)).size).toBe(1);
    expect(findings.every((f) => f.type === 'lease_password' && f.ref === 'lease:42' && f.detector === 'held')).toBe(true);
  });

  it('finds a whole long value (a PEM key), a large part of it, but not its public boilerplate alone', () => {
    let x = 12345;
    const body = Buffer.from(Uint8Array.from({ length: 1200 }, () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24)).toString('base64');
    const pem = `-----BEGIN PRIVATE KEY-----\n${body.replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
    const { engine } = engineFor(pem);
    const whole = engine.scan([`key:\n${pem}done`]).findings;
    expect(whole).toHaveLength(1);
    expect(whole[0]!.end - whole[0]!.start).toBe(pem.length);
    const part = pem.slice(300, 900);
    const partial = engine.scan([`leak ${part} end`]).findings;
    expect(partial).toHaveLength(1);
    expect(partial[0]!.end - partial[0]!.start).toBe(part.length);
    expect(engine.scan(['-----BEGIN PRIVATE KEY-----\nMIIE and then something else entirely']).findings).toEqual([]);
    // Base64 of the whole key, as `base64 key.pem` prints it on one line.
    const b64 = Buffer.from(pem).toString('base64');
    const encoded = engine.scan([b64]).findings;
    expect(encoded).toHaveLength(1);
    expect(encoded[0]!.end - encoded[0]!.start).toBe(b64.length);
  });
});

describe('held values: very long values', () => {
  it('keeps the automaton bounded for a huge value, and still finds it whole', () => {
    let x = 99;
    const huge = Buffer.from(Uint8Array.from({ length: 150_000 }, () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24)).toString('base64');
    const held = new HeldValues();
    held.add(huge);
    const compiled = held.compiled();
    // At most 64 chunks (+1 at the end) per encoding, for some twenty encodings.
    expect(compiled.patternCount).toBeLessThan(25 * 66);
    const engine = new Engine({ held, detectors: { secret: false, pii: false } });
    const found = engine.scan([`dump: ${huge}`]).findings;
    expect(found.some((f) => f.start === 6 && f.end === 6 + huge.length)).toBe(true);
  });
});

describe('HeldValues set', () => {
  it('versions every change, counts holds, and rebuilds the automaton on change', () => {
    const held = new HeldValues();
    const engine = new Engine({ held, detectors: { secret: false, pii: false } });
    expect(held.version).toBe(0);
    held.add('first-secret-value');
    held.add('first-secret-value');
    expect(held.version).toBe(1);
    expect(held.size).toBe(1);
    expect(engine.scan(['first-secret-value']).findings).toHaveLength(1);
    expect(held.remove('first-secret-value')).toBe(true);
    expect(engine.scan(['first-secret-value']).findings).toHaveLength(1);
    expect(held.remove('first-secret-value')).toBe(true);
    expect(held.version).toBe(2);
    expect(held.has('first-secret-value')).toBe(false);
    expect(engine.scan(['first-secret-value']).findings).toEqual([]);
    expect(held.remove('never-held-value')).toBe(false);
    held.replaceAll(['second-secret-value', { value: 'third-secret-value', type: 'token' }]);
    expect(held.version).toBe(3);
    const { findings } = engine.scan(['second-secret-value third-secret-value first-secret-value']);
    expect(findings.map((f) => f.type)).toEqual(['vault', 'token']);
  });

  it('scans a single string directly from the compiled set', () => {
    const held = new HeldValues();
    held.add({ value: 'direct-scan-value', type: 'token', ref: 'r1' });
    const text = `a ${Buffer.from('direct-scan-value').toString('hex')} b direct-scan-value`;
    expect(
      held
        .compiled()
        .scan(text)
        .map((m) => [m.type, m.ref, text.slice(m.start, m.end)]),
    ).toEqual([
      ['token', 'r1', Buffer.from('direct-scan-value').toString('hex')],
      ['token', 'r1', 'direct-scan-value'],
    ]);
  });

  it('rejects values that are not strings', () => {
    const held = new HeldValues();
    expect(() => held.add(42 as unknown as string)).toThrow(TypeError);
    expect(() => held.replaceAll([{ value: null as unknown as string }])).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------
// Property: a random held secret, under a random encoding, at a random place in random text,
// split at random points across 1–4 consecutive segments, with random invisible characters
// inserted, is always found: every character carrying the secret is covered by a held
// finding in its segment.

type Encoded = { text: string; from: number; to: number };

const encodings: Record<string, (value: string, pre: Uint8Array, post: Uint8Array, pad: boolean) => Encoded> = {
  plain: (v) => ({ text: v, from: 0, to: v.length }),
  reversed: (v) => ({ text: [...v].reverse().join(''), from: 0, to: v.length }),
  base64: (v, pre, post, pad) => inStream(v, pre, post, pad, false),
  base64url: (v, pre, post) => inStream(v, pre, post, false, true),
  hex: (v) => whole(Buffer.from(v).toString('hex')),
  HEX: (v) => whole(Buffer.from(v).toString('hex').toUpperCase()),
  percentAll: (v) => whole([...Buffer.from(v)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')),
  percentComponent: (v) => whole(encodeURIComponent(v)),
  percentForm: (v) => whole(new URLSearchParams({ k: v }).toString().slice(2)),
  json: (v) => whole(JSON.stringify(v).slice(1, -1)),
  jsonUnicode: (v) => whole([...v].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')),
};

function whole(text: string): Encoded {
  return { text, from: 0, to: text.length };
}

function inStream(value: string, pre: Uint8Array, post: Uint8Array, pad: boolean, url: boolean): Encoded {
  const bytes = Buffer.from(value);
  let text = Buffer.concat([pre, bytes, post]).toString(url ? 'base64url' : 'base64');
  if (!pad) text = text.replace(/=+$/, '');
  return { text, from: Math.floor((8 * pre.length) / 6), to: Math.ceil((8 * (pre.length + bytes.length)) / 6) };
}

const secretArb = fc.oneof(
  fc.uint8Array({ minLength: 6, maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')),
  fc.uint8Array({ minLength: 4, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 8, maxLength: 40 }),
);

const textArb = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '=', '+', '/', '-', '_', '%', '\\', '"', 'é', '漢', '😀', '\n'), maxLength: 30 });

describe('held values: property', () => {
  it('finds a random held secret under any encoding, split and sprinkled with invisible characters', () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.constantFrom(...Object.keys(encodings)),
        fc.uint8Array({ maxLength: 5 }),
        fc.uint8Array({ maxLength: 5 }),
        fc.boolean(),
        textArb,
        textArb,
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...INVISIBLE)), { maxLength: 4 }),
        fc.uniqueArray(fc.nat(), { maxLength: 3 }),
        (secret, encoding, pre, post, pad, before, after, invisibles, cuts) => {
          const held = new HeldValues();
          held.add(secret);
          const engine = new Engine({ held, detectors: { secret: false, pii: false } });
          const encoded = encodings[encoding]!(secret, pre, post, pad);
          // Characters of the whole text, each remembering whether it carries the secret.
          const chars: { c: string; secret: boolean }[] = [];
          for (const c of before) chars.push({ c, secret: false });
          [...encoded.text].forEach((c, i) => {
            chars.push({ c, secret: i >= encoded.from && i < encoded.to });
          });
          for (const c of after) chars.push({ c, secret: false });
          // Invisible characters inside the encoded secret.
          const secretStart = [...before].length;
          for (const [at, inv] of invisibles) chars.splice(secretStart + (at % (encoded.text.length + 1)), 0, { c: inv, secret: false });
          // Split into 1–4 consecutive segments at code-point boundaries.
          const points = [...new Set(cuts.map((c) => c % (chars.length + 1)))].sort((x, y) => x - y);
          const segments: string[] = [];
          const owner: { segment: number; offset: number; secret: boolean }[] = [];
          let start = 0;
          for (const end of [...points, chars.length]) {
            let s = '';
            for (let i = start; i < end; i++) {
              owner.push({ segment: segments.length, offset: s.length, secret: chars[i]!.secret });
              s += chars[i]!.c;
            }
            segments.push(s);
            start = end;
          }
          const found = engine.scan(segments).findings.filter((f) => f.detector === 'held');
          for (const o of owner) {
            if (!o.secret) continue;
            const covered = found.some((f) => f.segment === o.segment && f.start <= o.offset && o.offset < f.end);
            expect(covered, `${encoding} char at segment ${o.segment}+${o.offset} of ${JSON.stringify(segments)}`).toBe(true);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
