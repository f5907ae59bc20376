// The exit point reads the strings of a message in other orders too (values without their
// keys, the strings of one shape, the literals of JSON text), for held credentials split
// across strings that are neighbours only there. By default it reads each piece of those
// orders only as far as a value that began in an earlier piece can reach
// (Engine.scanAcross); `wholeReadingOrders` reads every piece whole, as the exit point did
// before. Over generated messages built from pieces of held values (short ones matched
// whole, long ones matched by chunks and extended, in several encodings, with invisible
// characters, at piece ends and piece middles), both must return the same message and the
// same report, with and without the caller's own token.
import { createSecretKey } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeldValues } from './detect/index.js';
import { OutputSanitizer } from './output-sanitizer.js';
import type { RedactionReport } from './report.js';

const KEY = createSecretKey(Buffer.alloc(32, 7));
const CHANNEL = { kind: 'result', method: 'tools/call' } as const;

// Few distinct characters: prefixes and suffixes of held values meet at piece ends often.
const valueArb = (min: number, max: number) => fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'Q', '7', '-'), minLength: min, maxLength: max });

type Encoding = 'plain' | 'base64' | 'hex' | 'invisible';
function encode(value: string, encoding: Encoding): string {
  if (encoding === 'base64') return Buffer.from(value).toString('base64');
  if (encoding === 'hex') return Buffer.from(value).toString('hex');
  if (encoding === 'invisible') return `${value.slice(0, 3)}\u200b${value.slice(3)}`;
  return value;
}

/** `text` cut into pieces at the given fractions. */
function cut(text: string, at: readonly number[]): string[] {
  const points = [...new Set(at.map((f) => Math.floor(f * text.length)))].filter((p) => p > 0 && p < text.length).sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    out.push(text.slice(from, p));
    from = p;
  }
  out.push(text.slice(from));
  return out;
}

const caseArb = fc.record({
  short: fc.array(valueArb(8, 40), { minLength: 1, maxLength: 4 }),
  long: fc.array(valueArb(70, 160), { maxLength: 2 }),
  // Which value goes into the message, how it is encoded and cut, and where the pieces go.
  picks: fc.array(
    fc.record({
      value: fc.nat(),
      encoding: fc.constantFrom<Encoding>('plain', 'base64', 'hex', 'invisible'),
      cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
      take: fc.oneof(fc.constant(1), fc.double({ min: 0.3, max: 1, noNaN: true })),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  // Noise with quotes and backslashes: escaped quotes inside the literals of JSON text.
  noise: fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'Q', '7', '"', '\\', ' '), maxLength: 12 }), { minLength: 1, maxLength: 8 }),
  // Sometimes a held value with a quote in it (the quote is then part of a pattern).
  quoted: fc.boolean(),
  layout: fc.constantFrom(
    'values',
    'shapes',
    'json-text',
    'json-array',
    'content-items',
    'mixed',
    'json-members',
    'json-names',
    'json-records',
    'ndjson',
    'json-items',
    'json-twice',
    'json-blob',
  ),
  token: fc.option(valueArb(20, 90), { nil: undefined }),
  // A piece longer than twice the reach of the other orders: only its two ends are read there.
  pad: fc.option(fc.record({ at: fc.nat(), length: fc.integer({ min: 1000, max: 1400 }), unit: valueArb(1, 3) }), { nil: undefined }),
});

function message(pieces: readonly string[], noise: readonly string[], layout: string): unknown {
  const n = (i: number) => noise[i % noise.length]!;
  // Values only: each piece a value with a key between (the key is a noise word).
  const values = Object.fromEntries(pieces.map((p, i) => [`${n(i)}k${i}`, p]));
  // One shape: records of the same keys, the pieces in one member of consecutive records.
  const records = pieces.map((p, i) => ({ id: n(i), part: p, note: n(i + 1) }));
  const text = JSON.stringify({ list: pieces.map((p, i) => ({ [`${n(i)}`]: p })) });
  switch (layout) {
    case 'values':
      return { structuredContent: values };
    case 'shapes':
      return { structuredContent: { rows: records } };
    case 'json-text':
      return { content: [{ type: 'text', text }] };
    case 'json-array':
      // Consecutive literals of JSON text: `["piece","piece",…]`.
      return { content: [{ type: 'text', text: JSON.stringify({ list: pieces }) }] };
    case 'content-items':
      return { content: pieces.map((p) => ({ type: 'text', text: p })) };
    // JSON text with member names, numbers and other literals between the pieces.
    case 'json-members':
      return {
        content: [
          {
            type: 'text',
            text: JSON.stringify(
              Object.fromEntries(
                pieces.flatMap((p, i) => [
                  [`${n(i)}k${i}`, p],
                  [`n${i}`, i],
                ]),
              ),
              null,
              pieces.length % 3,
            ),
          },
        ],
      };
    case 'json-names':
      return { content: [{ type: 'text', text: JSON.stringify(Object.fromEntries(pieces.map((p, i) => [p, n(i)]))) }] };
    case 'json-records':
      return { content: [{ type: 'text', text: JSON.stringify({ rows: records }) }] };
    case 'ndjson':
      return { content: [{ type: 'text', text: pieces.map((p, i) => JSON.stringify({ [n(i)]: p, i })).join('\n') }] };
    case 'json-items':
      // One JSON object written over several text items, one member per item.
      return {
        content: pieces.map((p, i) => ({
          type: 'text',
          text: `${i === 0 ? '{' : ''}${JSON.stringify(n(i))}:${JSON.stringify(p)}${i === pieces.length - 1 ? '}' : ','}`,
        })),
      };
    case 'json-twice':
      return { content: [{ type: 'text', text: JSON.stringify({ doc: JSON.stringify({ rows: records, values }) }) }] };
    case 'json-blob':
      return { contents: [{ uri: 'file:///r.json', blob: Buffer.from(JSON.stringify({ values })).toString('base64') }] };
    default:
      return { content: [{ type: 'text', text }], structuredContent: { rows: records, values } };
  }
}

function run(s: OutputSanitizer, msg: unknown, token: string | undefined): { out: string; report: RedactionReport | undefined } {
  let report: RedactionReport | undefined;
  const out = s.sanitize(msg, CHANNEL, { credentials: token === undefined ? undefined : [token], report: (r) => (report = r) });
  return { out: JSON.stringify(out), report };
}

describe('other reading orders: reading pieces only as far as a value can reach', () => {
  it('returns the same message and report as reading every piece whole (generated messages)', () => {
    fc.assert(
      fc.property(caseArb, ({ short, long, picks, noise, quoted, layout, token, pad }) => {
        const held = new HeldValues();
        const all = [...short, ...long, ...(quoted ? [`${short[0]}"${short[0]}`] : [])];
        for (const [i, value] of all.entries()) held.add({ value, ref: `v${i}` });
        const fast = new OutputSanitizer(held, { hashKey: KEY });
        const whole = new OutputSanitizer(held, { hashKey: KEY, wholeReadingOrders: true });
        const pieces: string[] = [];
        for (const pick of picks) {
          const value = all[pick.value % all.length]!;
          // A whole value, or a stretch of it (a partial leak of a long value).
          const text = encode(value, pick.encoding);
          const stretch = text.slice(0, Math.max(1, Math.floor(pick.take * text.length)));
          const parts = cut(stretch, pick.cuts);
          // Noise after the last piece (quotes and backslashes among it).
          parts[parts.length - 1] += noise[pieces.length % noise.length]!;
          pieces.push(...parts);
        }
        if (pad !== undefined && pad.unit.length > 0) {
          const at = pad.at % pieces.length;
          pieces[at] = `${pieces[at]}${pad.unit.repeat(Math.ceil(pad.length / pad.unit.length))}${pieces[at]}`;
        }
        const msg = message(pieces, noise, layout);
        const a = run(fast, msg, token);
        const b = run(whole, msg, token);
        expect(a.out).toBe(b.out);
        expect(a.report).toEqual(b.report);
      }),
      { numRuns: Number(process.env.READING_ORDER_RUNS ?? 400) },
    );
  });

  it('masks the base64 padding and partial character of a held value when only they are in the next literal, as reading whole does', () => {
    for (const value of ['QQab7-cabQQab7-cabQ', 'QQab7-cabQQab7-cabQQ', 'xQQab7-cabQQab7-cabQ', 'QQab7-cabQQab7-cab']) {
      const held = new HeldValues();
      held.add({ value, ref: 'v' });
      const b64 = Buffer.from(value).toString('base64');
      for (const k of [1, 2, 3]) {
        for (const layout of ['json-array', 'values'] as const) {
          const parts = [b64.slice(0, b64.length - k), b64.slice(b64.length - k)];
          const msg = layout === 'values' ? { structuredContent: { a: parts[0], b: parts[1] } } : { content: [{ type: 'text', text: JSON.stringify(parts) }] };
          const fast = run(new OutputSanitizer(held, { hashKey: KEY }), msg, undefined);
          const whole = run(new OutputSanitizer(held, { hashKey: KEY, wholeReadingOrders: true }), msg, undefined);
          expect(fast.out, `${value} ${k} ${layout}`).toBe(whole.out);
          expect(fast.report).toEqual(whole.report);
          // The tail in the second string is the match's widened end: masked too.
          // (Read in document order, base64's partial character can be the next member's name, `b`: masked too.)
          const out = JSON.parse(fast.out) as { structuredContent?: Record<string, string>; content?: { text: string }[] };
          const strings = layout === 'values' ? Object.values(out.structuredContent!) : (JSON.parse(out.content![0]!.text) as string[]);
          expect(strings, `${value} ${k} ${layout}`).toEqual(['[REDACTED:vault]', '[REDACTED:vault]']);
        }
      }
    }
  });

  it('finds a value split across the values of an object (keys between) either way, and says so in the report', () => {
    const value = 'QQab7-cabQQab7-cabQ';
    const held = new HeldValues();
    held.add({ value, ref: 'v' });
    for (const s of [new OutputSanitizer(held, { hashKey: KEY }), new OutputSanitizer(held, { hashKey: KEY, wholeReadingOrders: true })]) {
      const { out, report } = run(s, { structuredContent: { a: value.slice(0, 7), b: value.slice(7, 12), c: value.slice(12) } }, undefined);
      expect(out).not.toContain(value.slice(0, 7));
      expect(out).not.toContain(value.slice(12));
      expect(report?.redactions).toEqual({ vault: 1 });
    }
  });

  it('a long value partly leaked across JSON literals (chunk hits inside one piece) is found either way', () => {
    const value = Array.from({ length: 120 }, (_, i) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[(i * 7 + i * i) % 62]).join('');
    const held = new HeldValues();
    held.add({ value, ref: 'long' });
    const text = JSON.stringify([value.slice(0, 50), value.slice(50, 100)]);
    for (const s of [new OutputSanitizer(held, { hashKey: KEY }), new OutputSanitizer(held, { hashKey: KEY, wholeReadingOrders: true })]) {
      const { out, report } = run(s, { content: [{ type: 'text', text }] }, undefined);
      expect(out).not.toContain(value.slice(10, 40));
      expect(out).not.toContain(value.slice(60, 90));
      expect(report?.redactions).toEqual({ vault: 1 });
    }
  });
});
