// The invariant of the exit point, checked on random inputs: a credential Gatehouse holds (or
// the caller's own token), under a random encoding, split at random places across
// neighbouring strings, at a random depth of a random message on any channel, never reaches
// the client; nor, unsplit, a log line or an audit body.
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { scrubStrings } from '../audit/index.js';
import { createLogger, registerCredential, unregisterCredential } from '../log/index.js';
import type { Channel } from './output-sanitizer.js';
import { sanitizer } from './sanitizer.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!$%&*+=/:@~';
const secretArb = fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 12, maxLength: 48 }).filter((s) => new Set(s).size >= 6);

type Encoding = 'plain' | 'invisible' | 'base64' | 'base64url' | 'hex' | 'HEX' | 'percent' | 'json-u';
const ENCODINGS: Encoding[] = ['plain', 'invisible', 'base64', 'base64url', 'hex', 'HEX', 'percent', 'json-u'];

function encode(value: string, encoding: Encoding, positions: number[]): string {
  switch (encoding) {
    case 'plain':
      return value;
    case 'invisible': {
      // Zero-width and other invisible characters inside the value: removed before matching.
      const marks = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad'];
      let out = value;
      for (const [k, p] of positions.entries()) {
        const at = 1 + (p % (out.length - 1));
        out = out.slice(0, at) + marks[k % marks.length] + out.slice(at);
      }
      return out;
    }
    case 'base64':
      return Buffer.from(value).toString('base64');
    case 'base64url':
      return Buffer.from(value).toString('base64url');
    case 'hex':
      return Buffer.from(value).toString('hex');
    case 'HEX':
      return Buffer.from(value).toString('hex').toUpperCase();
    case 'percent':
      return [...Buffer.from(value)].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
    case 'json-u':
      return [...value].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  }
}

/** `text` cut at the given positions (distinct, sorted) into 1–4 pieces. */
function split(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => 1 + (c % (text.length - 1))))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const c of at) {
    pieces.push(text.slice(from, c));
    from = c;
  }
  pieces.push(text.slice(from));
  return pieces;
}

const wordArb = fc.constantFrom('status', 'ok', 'the', 'build', 'passed', 'at', 'noon', 'see', 'logs', 'v2.3.1', '2026-01-02', '42');
const noiseArb = fc.array(wordArb, { maxLength: 4 }).map((w) => w.join(' '));
const keyArb = fc.constantFrom('data', 'items', 'detail', 'rows', 'value', 'nested', 'x');

/**
 * Pieces as consecutive strings (content items, array elements, object members) or as the
 * literals of JSON text, with member names, numbers, other literals or line breaks between
 * them (members, member names, records of one shape, pretty-printed, NDJSON, JSON text cut
 * across content items, JSON text inside a string of a structured value).
 */
type Layout =
  | 'content-items'
  | 'array'
  | 'members'
  | 'single-string'
  | 'json-members'
  | 'json-names'
  | 'json-records'
  | 'json-pretty'
  | 'ndjson'
  | 'json-items'
  | 'json-in-string';
const LAYOUTS: Layout[] = [
  'content-items',
  'array',
  'members',
  'single-string',
  'json-members',
  'json-names',
  'json-records',
  'json-pretty',
  'ndjson',
  'json-items',
  'json-in-string',
];
const layoutArb = fc.constantFrom<Layout>(...LAYOUTS);

function place(pieces: string[], before: string, after: string, layout: Layout): unknown {
  const texts = [`${before} ${pieces[0]}`, ...pieces.slice(1, -1), `${pieces.length > 1 ? pieces[pieces.length - 1] : ''} ${after}`];
  if (pieces.length === 1) texts.splice(1, 1);
  switch (layout) {
    case 'content-items':
      return texts.map((text) => ({ type: 'text', text }));
    case 'array':
      return texts;
    case 'members':
      return Object.fromEntries(texts.map((t, i) => [`f${i}`, t]));
    case 'single-string':
      return texts.join('');
    case 'json-members':
      return [{ type: 'text', text: JSON.stringify(Object.fromEntries(texts.map((t, i) => [`k${i}`, t]))) }];
    case 'json-names':
      return [{ type: 'text', text: JSON.stringify(Object.fromEntries(texts.map((t, i) => [t, i]))) }];
    case 'json-records':
      return [{ type: 'text', text: JSON.stringify({ rows: texts.map((t, i) => ({ id: `r${i}`, part: t, n: i, ok: i % 2 === 0 ? true : null })) }) }];
    case 'json-pretty':
      return [
        {
          type: 'text',
          text: JSON.stringify(
            Object.fromEntries(
              texts.flatMap((t, i) => [
                [`k${i}`, t],
                [`n${i}`, i * 1.5],
              ]),
            ),
            null,
            2,
          ),
        },
      ];
    case 'ndjson':
      return [{ type: 'text', text: `${texts.map((t, i) => JSON.stringify({ line: i, v: t })).join('\n')}\n` }];
    case 'json-items':
      // One JSON object written over several text items, one member per item.
      return texts.map((t, i) => ({ type: 'text', text: `${i === 0 ? '{' : ''}"k${i}":${JSON.stringify(t)}${i === texts.length - 1 ? '}' : ','}` }));
    case 'json-in-string':
      return { doc: JSON.stringify(Object.fromEntries(texts.map((t, i) => [`k${i}`, t]))) };
  }
}

/** The strings of JSON text found anywhere in `value` (nested JSON text, NDJSON lines), read values-only and names-only. */
function jsonReadings(value: unknown): string[] {
  const readings: string[] = [];
  const docs: unknown[] = [];
  const texts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      texts.push(v);
      for (const candidate of [v, ...v.split('\n')]) {
        try {
          const doc: unknown = JSON.parse(candidate);
          if (doc !== null && typeof doc === 'object') docs.push(doc);
        } catch {
          // not JSON text
        }
      }
    } else if (v !== null && typeof v === 'object') for (const member of Object.values(v)) walk(member);
  };
  walk(value);
  // JSON text cut across consecutive strings: the strings joined.
  try {
    const doc: unknown = JSON.parse(texts.join(''));
    if (doc !== null && typeof doc === 'object') docs.push(doc);
  } catch {
    // not JSON text
  }
  for (const doc of docs) {
    const values: string[] = [];
    const names: string[] = [];
    const collect = (v: unknown): void => {
      if (typeof v === 'string') values.push(v);
      else if (v !== null && typeof v === 'object')
        for (const [k, member] of Object.entries(v)) {
          if (!Array.isArray(v)) names.push(k);
          collect(member);
        }
    };
    collect(doc);
    readings.push(values.join(''), names.join(''));
  }
  return readings;
}

function nest(value: unknown, keys: string[]): unknown {
  let out = value;
  for (const [i, key] of keys.entries()) out = i % 2 === 0 ? { [key]: out, other: 'fine' } : [out, 'x'];
  return out;
}

const channelArb = fc.constantFrom<{ channel: Channel; wrap: (v: unknown) => unknown }>(
  {
    channel: { kind: 'result', method: 'tools/call' },
    wrap: (v) => ({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'ok' }], structuredContent: { v } } }),
  },
  {
    channel: { kind: 'result', method: 'tools/call' },
    wrap: (v) => ({ jsonrpc: '2.0', id: 1, result: { content: Array.isArray(v) ? v : [{ type: 'text', text: JSON.stringify(v) }] } }),
  },
  {
    channel: { kind: 'result', method: 'resources/read' },
    wrap: (v) => ({ jsonrpc: '2.0', id: 2, result: { contents: [{ uri: 'file:///a', text: 't', _meta: { v } }] } }),
  },
  {
    channel: { kind: 'result', method: 'tools/list' },
    wrap: (v) => ({
      jsonrpc: '2.0',
      id: 3,
      result: { tools: [{ name: 't', description: 'd', inputSchema: { type: 'object', properties: { v: { description: v } } } }] },
    }),
  },
  {
    channel: { kind: 'result', method: 'initialize' },
    wrap: (v) => ({ jsonrpc: '2.0', id: 0, result: { instructions: v, serverInfo: { name: 'g', version: '1' } } }),
  },
  { channel: { kind: 'result', method: 'completion/complete' }, wrap: (v) => ({ jsonrpc: '2.0', id: 4, result: { completion: { values: [v] } } }) },
  { channel: { kind: 'error', method: 'tools/call' }, wrap: (v) => ({ jsonrpc: '2.0', id: 5, error: { code: -32602, message: 'Unknown tool', data: { v } } }) },
  {
    channel: { kind: 'notification', method: 'notifications/progress' },
    wrap: (v) => ({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1, message: v } }),
  },
  {
    channel: { kind: 'notification', method: 'notifications/message' },
    wrap: (v) => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: v } }),
  },
  {
    channel: { kind: 'request', method: 'sampling/createMessage' },
    wrap: (v) => ({
      jsonrpc: '2.0',
      id: 'g1',
      method: 'sampling/createMessage',
      params: { messages: [{ role: 'user', content: { type: 'text', text: v } }], maxTokens: 5 },
    }),
  },
  {
    channel: { kind: 'request', method: 'elicitation/create' },
    wrap: (v) => ({
      jsonrpc: '2.0',
      id: 'g2',
      method: 'elicitation/create',
      params: { message: 'confirm', requestedSchema: { type: 'object', properties: { v: { type: 'string', description: v } } } },
    }),
  },
);

const registered: string[] = [];
afterEach(() => {
  for (const v of registered.splice(0)) unregisterCredential(v);
});

describe('no credential leaves, whatever the encoding, split, place and channel', () => {
  it('never reaches the client (held credentials and the caller’s own token)', () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.constantFrom(...ENCODINGS),
        fc.array(fc.nat(), { minLength: 0, maxLength: 3 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        noiseArb,
        noiseArb,
        layoutArb,
        fc.array(keyArb, { maxLength: 4 }),
        channelArb,
        fc.boolean(),
        (secret, encoding, cuts, marks, before, after, layout, keys, { channel, wrap }, asCallerToken) => {
          if (asCallerToken) registered.length = 0;
          else {
            registerCredential(secret);
            registered.push(secret);
          }
          const encoded = encode(secret, encoding, marks);
          const pieces = layout === 'single-string' ? [encoded] : split(encoded, cuts);
          const message = wrap(nest(place(pieces, before, after, layout), keys));
          const out = JSON.stringify(sanitizer.sanitize(message, channel, asCallerToken ? { credentials: [secret] } : {}));
          const visible = out.replace(/\u200b|\u200c|\u200d|\u2060|\ufeff|\u00ad|\\u200[bcd]|\\u2060|\\ufeff|\\u00ad/g, '');
          expect(visible).not.toContain(secret);
          expect(out).not.toContain(encoded);
          // JSON escapes of the value survive serialization as `\\u…`: check the decoded text too.
          expect(JSON.stringify(JSON.parse(out))).not.toContain(secret);
          // JSON text read as a client would: its values without member names, its names alone.
          const invisible = /\u200b|\u200c|\u200d|\u2060|\ufeff|\u00ad/g;
          for (const reading of jsonReadings(JSON.parse(out))) {
            expect(reading.replace(invisible, '')).not.toContain(secret);
            expect(reading).not.toContain(encoded);
          }
          for (const v of registered.splice(0)) unregisterCredential(v);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('never reaches a log line or an audit body, in any of its encodings', () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.constantFrom<Encoding>('plain', 'base64', 'base64url', 'hex', 'HEX', 'percent', 'json-u'),
        noiseArb,
        (secret, encoding, noise) => {
          registerCredential(secret);
          registered.push(secret);
          const encoded = encode(secret, encoding, []);
          const lines: string[] = [];
          const log = createLogger({
            level: 'info',
            destination: new Writable({
              write(chunk, _enc, done) {
                lines.push(String(chunk));
                done();
              },
            }) as never,
          });
          log.info({ upstreamStderr: `${noise} ${encoded} ${noise}` }, 'upstream said');
          log.flush?.();
          expect(lines.join('')).not.toContain(encoded);
          const body = scrubStrings({ error: { message: `${noise} ${encoded}` }, nested: [[encoded]] });
          expect(JSON.stringify(body)).not.toContain(encoded);
          for (const v of registered.splice(0)) unregisterCredential(v);
        },
      ),
      { numRuns: 200 },
    );
  });
});
