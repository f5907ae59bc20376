// A held credential split across the string literals of JSON text, with member names,
// punctuation, numbers, other literals or line breaks between its pieces, must not leave
// the exit point: the same value split across the members of a structured value is
// caught, and JSON text is the same object written as a string.
import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HeldValues } from './detect/index.js';
import { type Channel, OutputSanitizer } from './output-sanitizer.js';
import type { RedactionReport } from './report.js';

const KEY = createSecretKey(Buffer.alloc(32, 9));
const VALUE = 'Zq8vN3tLwP5xR2mKc9Hy7BdQ';
const H1 = VALUE.slice(0, 11);
const H2 = VALUE.slice(11);
const RESULT: Channel = { kind: 'result', method: 'tools/call' };

const b64 = (s: string) => Buffer.from(s).toString('base64');
const hex = (s: string) => Buffer.from(s).toString('hex');
const jsonU = (s: string) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
const text = (t: string) => ({ content: [{ type: 'text', text: t }] });

/** Every string in a JSON value, and what each decodes to (nested JSON text, base64). */
function decodedForms(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
    try {
      decodedForms(JSON.parse(value), out);
    } catch {
      // not JSON text
    }
    for (const line of value.split('\n')) {
      try {
        decodedForms(JSON.parse(line), out);
      } catch {
        // not a JSON line
      }
    }
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) out.push(Buffer.from(value, 'base64').toString('utf8'));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      decodedForms(v, out);
    }
  }
  return out;
}

interface Variant {
  name: string;
  message: unknown;
  channel?: Channel;
  /** The pieces as written in the message (plain, encoded or escaped). */
  pieces: string[];
  /**
   * A value split across `\u`-escaped strings is found both in its escaped form and in the
   * unescaped reading, and the report can count it twice (as it does for escaped pieces in
   * structured values); the message is still fully redacted.
   */
  countsAtLeastOnce?: true;
}

const pair = (a: string, b: string) => [a, b];
const VARIANTS: Variant[] = [
  { name: 'two members of one object', message: text(`{"a":"${H1}","b":"${H2}"}`), pieces: pair(H1, H2) },
  { name: 'two array elements', message: text(`["${H1}","${H2}"]`), pieces: pair(H1, H2) },
  {
    name: 'three members, split in three',
    message: text(JSON.stringify({ x: VALUE.slice(0, 7), y: VALUE.slice(7, 15), z: VALUE.slice(15) })),
    pieces: [VALUE.slice(0, 7), VALUE.slice(7, 15), VALUE.slice(15)],
  },
  { name: 'nested objects', message: text(JSON.stringify({ outer: { a: H1 }, other: { deep: { b: H2 } } })), pieces: pair(H1, H2) },
  { name: 'numbers, booleans and null between', message: text(`{"a":"${H1}","n":12.5e3,"t":true,"f":false,"z":null,"b":"${H2}"}`), pieces: pair(H1, H2) },
  { name: 'whitespace and line breaks', message: text(JSON.stringify({ a: H1, b: H2 }, null, 2).replace(/\n/g, '\r\n\t ')), pieces: pair(H1, H2) },
  {
    name: 'other literals between (records of one shape)',
    message: text(
      JSON.stringify([
        { id: 'row-1', part: H1, note: 'ok' },
        { id: 'row-2', part: H2, note: 'ok' },
      ]),
    ),
    pieces: pair(H1, H2),
  },
  { name: 'member names carry the pieces (string values between)', message: text(`{"${H1}":"first","${H2}":"second"}`), pieces: pair(H1, H2) },
  { name: 'member names carry the pieces (numbers between)', message: text(`{"${H1}":1,"${H2}":2}`), pieces: pair(H1, H2) },
  { name: 'a member name then its own value', message: text(`{"k":"v","${H1}":"${H2}"}`), pieces: pair(H1, H2) },
  { name: '\\u-escaped pieces', message: text(`{"a":"${jsonU(H1)}","b":"${jsonU(H2)}"}`), pieces: pair(jsonU(H1), jsonU(H2)), countsAtLeastOnce: true },
  {
    name: 'base64 pieces',
    message: text(`{"a":"${b64(VALUE).slice(0, 12)}","b":"${b64(VALUE).slice(12)}"}`),
    pieces: pair(b64(VALUE).slice(0, 12), b64(VALUE).slice(12)),
  },
  {
    name: 'hex pieces',
    message: text(`{"a":"${hex(VALUE).slice(0, 17)}","b":"${hex(VALUE).slice(17)}"}`),
    pieces: pair(hex(VALUE).slice(0, 17), hex(VALUE).slice(17)),
  },
  {
    name: 'invisible characters in the pieces',
    message: text(`{"a":"${H1.slice(0, 4)}\u200b${H1.slice(4)}","b":"${H2.slice(0, 3)}\u2060${H2.slice(3)}"}`),
    pieces: pair(H1.slice(4), H2.slice(3)),
  },
  { name: 'NDJSON (one document a line)', message: text(`{"a":"${H1}"}\n{"b":"${H2}"}\n`), pieces: pair(H1, H2) },
  {
    name: 'JSON text cut across two text items (mid-object)',
    message: {
      content: [
        { type: 'text', text: `{"a":"${H1}",` },
        { type: 'text', text: `"b":"${H2}"}` },
      ],
    },
    pieces: pair(H1, H2),
  },
  {
    name: 'two JSON documents in two text items',
    message: {
      content: [
        { type: 'text', text: `{"a":"${H1}"}` },
        { type: 'text', text: `{"b":"${H2}"}` },
      ],
    },
    pieces: pair(H1, H2),
  },
  {
    name: 'a literal cut across two text items',
    message: {
      content: [
        { type: 'text', text: `{"k":"v","a":"${H1.slice(0, 5)}` },
        { type: 'text', text: `${H1.slice(5)}","b":"${H2}"}` },
      ],
    },
    pieces: [H1.slice(0, 5), H1.slice(5), H2],
  },
  {
    name: 'JSON text inside a string of structuredContent (double-encoded)',
    message: { content: [], structuredContent: { doc: JSON.stringify({ a: H1, b: H2 }) } },
    pieces: pair(H1, H2),
  },
  {
    name: 'JSON text inside a literal of JSON text (serialized twice)',
    message: text(JSON.stringify({ doc: JSON.stringify({ a: H1, b: H2 }) })),
    pieces: pair(H1, H2),
  },
  {
    name: 'JSON text three levels deep',
    message: text(JSON.stringify({ l1: JSON.stringify({ l2: JSON.stringify({ a: H1, n: 1, b: H2 }) }) })),
    pieces: pair(H1, H2),
  },
  {
    name: '\\u-escaped pieces inside JSON text serialized twice',
    message: text(JSON.stringify({ doc: `{"a":"${jsonU(H1)}","b":"${jsonU(H2)}"}` })),
    pieces: pair(jsonU(H1), jsonU(H2)),
    countsAtLeastOnce: true,
  },
  {
    // The middle member holds only the hex digits of one escape: no backslash of its own.
    name: '\\u-escaped value cut inside an escape across three members of JSON text',
    message: text(JSON.stringify({ a: jsonU(VALUE).slice(0, 8), b: jsonU(VALUE).slice(8, 12), c: jsonU(VALUE).slice(12) })),
    pieces: [jsonU(VALUE).slice(0, 8), jsonU(VALUE).slice(12)],
    countsAtLeastOnce: true,
  },
  {
    name: '\\u-escaped value cut inside an escape, members with names and numbers between',
    message: text(JSON.stringify({ x: 1, a: jsonU(VALUE).slice(0, 14), n: 2, b: jsonU(VALUE).slice(14, 16), m: [3], c: jsonU(VALUE).slice(16) })),
    pieces: [jsonU(VALUE).slice(0, 14), jsonU(VALUE).slice(16)],
    countsAtLeastOnce: true,
  },
  { name: 'a whole \\u-escaped value inside JSON text serialized twice', message: text(JSON.stringify({ doc: jsonU(VALUE) })), pieces: [jsonU(VALUE)] },
  {
    name: 'resource text',
    message: { contents: [{ uri: 'file:///r.json', mimeType: 'application/json', text: JSON.stringify({ a: H1, b: H2 }) }] },
    pieces: pair(H1, H2),
  },
  {
    name: 'resource blob (base64 of JSON text)',
    message: { contents: [{ uri: 'file:///r.json', mimeType: 'application/json', blob: b64(JSON.stringify({ a: H1, b: H2 })) }] },
    pieces: pair(H1, H2),
  },
  {
    name: 'an error message',
    channel: { kind: 'error', method: 'tools/call' },
    message: { code: -32000, message: `upstream said ${JSON.stringify({ a: H1, b: H2 })}` },
    pieces: pair(H1, H2),
  },
  {
    name: 'error data',
    channel: { kind: 'error', method: 'tools/call' },
    message: { code: -32000, message: 'failed', data: { body: JSON.stringify({ a: H1, b: H2 }) } },
    pieces: pair(H1, H2),
  },
  { name: '_meta', message: { content: [{ type: 'text', text: 'ok' }], _meta: { trace: JSON.stringify({ a: H1, b: H2 }) } }, pieces: pair(H1, H2) },
  { name: 'a bare string message', message: JSON.stringify({ a: H1, b: H2 }), channel: { kind: 'http-error' }, pieces: pair(H1, H2) },
  {
    name: 'escaped quotes and backslashes in other literals',
    message: text(`{"q":"say \\"hi\\" \\\\","a":"${H1}","b":"${H2}","r":"\\\\\\""}`),
    pieces: pair(H1, H2),
  },
];

function run(s: OutputSanitizer, v: Variant): { out: unknown; report: RedactionReport | undefined } {
  let report: RedactionReport | undefined;
  const out = s.sanitize(v.message, v.channel ?? RESULT, { report: (r) => (report = r) });
  return { out, report };
}

describe('a held value split across the literals of JSON text', () => {
  const held = new HeldValues();
  held.add({ value: VALUE, ref: 'vault:api-key' });
  const sanitizers = [
    ['reading pieces only as far as a value can reach', new OutputSanitizer(held, { hashKey: KEY })],
    ['reading every piece whole', new OutputSanitizer(held, { hashKey: KEY, wholeReadingOrders: true })],
  ] as const;
  for (const [mode, s] of sanitizers) {
    for (const v of VARIANTS) {
      it(`${v.name} (${mode}): no piece leaves, the report counts one vault redaction on its channel`, () => {
        const { out, report } = run(s, v);
        expect(out).not.toBe(v.message);
        const raw = JSON.stringify(out);
        for (const form of [raw, ...decodedForms(out)]) {
          expect(form).not.toContain(VALUE);
          for (const piece of v.pieces) expect(form).not.toContain(piece);
        }
        // The pieces read together in any of the readings a client could make.
        const joined = decodedForms(out).join('');
        expect(joined).not.toContain(VALUE);
        expect(report?.channel).toBe((v.channel ?? RESULT).kind);
        if (v.countsAtLeastOnce) {
          expect(Object.keys(report?.redactions ?? {})).toEqual(['vault']);
          expect(report?.redactions.vault).toBeGreaterThanOrEqual(1);
        } else expect(report?.redactions).toEqual({ vault: 1 });
        expect(report?.outcome).toBe('relayed');
      });
    }
  }

  it('leaves JSON text alone when its literals only look alike (no held value across them)', () => {
    const s = new OutputSanitizer(held, { hashKey: KEY });
    const msg = text(JSON.stringify({ a: H1, b: 'unrelated', c: VALUE.slice(12) }));
    let report: RedactionReport | undefined;
    expect(s.sanitize(msg, RESULT, { report: (r) => (report = r) })).toBe(msg);
    expect(report?.redactions).toEqual({});
  });

  it("catches the caller's own token split across members of JSON text too", () => {
    const s = new OutputSanitizer(new HeldValues(), { hashKey: KEY });
    const token = 'eyJhbGciOiJFUzI1NiJ9.tokenbody.sig123';
    const msg = text(JSON.stringify({ echo: token.slice(0, 15), more: token.slice(15) }));
    let report: RedactionReport | undefined;
    const out = JSON.stringify(s.sanitize(msg, RESULT, { credentials: [token], report: (r) => (report = r) }));
    expect(out).not.toContain(token.slice(0, 15));
    expect(out).not.toContain(token.slice(15));
    expect(report?.redactions).toEqual({ access_token: 1 });
  });
});
