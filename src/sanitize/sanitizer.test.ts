import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretRedactor } from '../log/index.js';
import { HeldValues } from './detect/index.js';
import { SanitizeError } from './errors.js';
import { mirrorRegistrations } from './held.js';
import { MAX_DEPTH } from './leaves.js';
import { OutputSanitizer, type Channel } from './output-sanitizer.js';

const SECRET = 'sk_live_9f8e7d6c5b4a3210';
const R = '[REDACTED:vault]';

function setup(...values: string[]) {
  const held = new HeldValues();
  for (const v of values) held.add(v);
  // Held credentials only: the other detectors have tests of their own.
  return { held, s: new OutputSanitizer(held, { detectors: { secrets: false, pii: false } }) };
}

const result: Channel = { kind: 'result', method: 'tools/call' };
const wire = (value: unknown) => JSON.stringify(value);

describe('OutputSanitizer (held credentials): every channel and message shape', () => {
  const { s } = setup(SECRET);

  it('redacts a held value in a tool result text, keeping the rest', () => {
    const out = s.sanitize({ content: [{ type: 'text', text: `key=${SECRET}; done` }] }, result);
    expect(out).toEqual({ content: [{ type: 'text', text: `key=${R}; done` }] });
  });

  it('redacts structuredContent values and keys, _meta and nested arrays', () => {
    const out = s.sanitize(
      { content: [], structuredContent: { [SECRET]: 1, nested: { list: ['a', `x${SECRET}y`] } }, _meta: { 'vendor/debug': { env: { API_KEY: SECRET } } } },
      result,
    );
    expect(wire(out)).not.toContain(SECRET);
    expect(out).toEqual({ content: [], structuredContent: { [R]: 1, nested: { list: ['a', `x${R}y`] } }, _meta: { 'vendor/debug': { env: { API_KEY: R } } } });
  });

  it('keeps two keys that redact to the same placeholder as two members', () => {
    const out = s.sanitize({ structuredContent: { [`${SECRET}`]: 1, [`${SECRET}!`]: 2 } }, result) as { structuredContent: Record<string, number> };
    expect(out.structuredContent).toEqual({ [R]: 1, [`${R}!`]: 2 });
    const same = s.sanitize({ o: { [`a${SECRET}`]: 1, [`a${SECRET.replace('sk', 'sk')}x`]: 2, [`a${R}`]: 3 } }, result) as { o: Record<string, number> };
    expect(Object.values(same.o).sort()).toEqual([1, 2, 3]);
  });

  it('keeps an own __proto__ key an own key', () => {
    const message = JSON.parse(`{"__proto__": {"x": "${SECRET}"}, "a": "${SECRET}"}`) as Record<string, unknown>;
    const out = s.sanitize(message, result);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(wire(out)).toBe(`{"__proto__":{"x":"${R}"},"a":"${R}"}`);
  });

  it('redacts JSON-RPC error messages and data', () => {
    const out = s.sanitize(
      { jsonrpc: '2.0', id: 7, error: { code: -32000, message: `connect failed with ${SECRET}`, data: { detail: [SECRET], [SECRET]: true } } },
      { kind: 'error', method: 'tools/call' },
    );
    expect(wire(out)).not.toContain(SECRET);
    expect(out.error.message).toBe(`connect failed with ${R}`);
  });

  it('redacts notifications: progress message, log data, resource updated URI', () => {
    const progress = s.sanitize(
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1, message: `using ${SECRET}` } },
      { kind: 'notification', method: 'notifications/progress' },
    );
    expect(progress.params.message).toBe(`using ${R}`);
    const log = s.sanitize(
      { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', logger: 'up', data: { headers: { authorization: `Bearer ${SECRET}` } } } },
      { kind: 'notification', method: 'notifications/message' },
    );
    expect(wire(log)).not.toContain(SECRET);
    const updated = s.sanitize(
      { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: `mem://${SECRET}` } },
      { kind: 'notification', method: 'notifications/resources/updated' },
    );
    expect(updated.params.uri).toBe(`mem://${R}`);
  });

  it('redacts server→client requests: sampling messages and elicitation prompts and schemas', () => {
    const sampling = s.sanitize(
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'sampling/createMessage',
        params: { messages: [{ role: 'user', content: { type: 'text', text: `summarise ${SECRET}` } }], systemPrompt: SECRET, maxTokens: 5 },
      },
      { kind: 'request', method: 'sampling/createMessage' },
    );
    expect(wire(sampling)).not.toContain(SECRET);
    const elicit = s.sanitize(
      {
        jsonrpc: '2.0',
        id: 4,
        method: 'elicitation/create',
        params: {
          mode: 'form',
          message: `confirm ${SECRET}`,
          requestedSchema: { type: 'object', properties: { [SECRET]: { type: 'string', description: SECRET } } },
        },
      },
      { kind: 'request', method: 'elicitation/create' },
    );
    expect(wire(elicit)).not.toContain(SECRET);
  });

  it('redacts the initialize result (instructions, serverInfo) and list results (descriptions, schemas)', () => {
    const init = s.sanitize(
      {
        jsonrpc: '2.0',
        id: 0,
        result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'gatehouse', version: SECRET }, instructions: `[up] use key ${SECRET}` },
      },
      { kind: 'result', method: 'initialize' },
    );
    expect(wire(init)).not.toContain(SECRET);
    const tools = s.sanitize(
      {
        tools: [
          {
            name: 'up__t',
            description: `uses ${SECRET}`,
            inputSchema: { type: 'object', properties: { [SECRET]: { type: 'string', default: SECRET, enum: [SECRET] } } },
          },
        ],
      },
      { kind: 'result', method: 'tools/list' },
    );
    expect(wire(tools)).not.toContain(SECRET);
  });

  it('keeps base64 members base64: text inside is redacted in place, binary holding a credential becomes the encoded placeholder', () => {
    const blob = Buffer.from(`binary\u0000${SECRET}\u0001`).toString('base64');
    const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(SECRET), Buffer.from([0xc3])]).toString('base64');
    const bin = s.sanitize({ contents: [{ uri: 'x://z', blob: binary }] }, result);
    expect(bin).toEqual({ contents: [{ uri: 'x://z', blob: Buffer.from(R).toString('base64') }] });
    const out = s.sanitize(
      { contents: [{ uri: 'x://y', blob }], content: [{ type: 'image', mimeType: 'image/png', data: Buffer.from(SECRET).toString('base64') }] },
      result,
    );
    expect(out).toEqual({
      contents: [{ uri: 'x://y', blob: Buffer.from(`binary\u0000${R}\u0001`).toString('base64') }],
      content: [{ type: 'image', mimeType: 'image/png', data: Buffer.from(R).toString('base64') }],
    });
    // Text that merely sits under a member called data is redacted in place.
    expect(s.sanitize({ data: `note: ${SECRET}` }, result)).toEqual({ data: `note: ${R}` });
  });

  it('redacts HTTP error bodies', () => {
    const body = s.sanitize({ jsonrpc: '2.0', id: null, error: { code: -32600, message: `bad ${SECRET}` } }, { kind: 'http-error' });
    expect(body.error.message).toBe(`bad ${R}`);
  });

  it('returns the very same object when nothing is held or nothing matched', () => {
    const message = { content: [{ type: 'text', text: 'harmless' }], structuredContent: { a: [1, 'b'] } };
    expect(s.sanitize(message, result)).toBe(message);
    expect(setup().s.sanitize(message, result)).toBe(message);
  });
});

describe('OutputSanitizer (held credentials): values split across strings', () => {
  const { s } = setup(SECRET);
  const a = SECRET.slice(0, 7);
  const b = SECRET.slice(7, 15);
  const c = SECRET.slice(15);

  it('across two text content items', () => {
    const out = s.sanitize(
      {
        content: [
          { type: 'text', text: `first half: ${a}` },
          { type: 'text', text: `${b}${c} was the rest` },
        ],
      },
      result,
    );
    expect(out).toEqual({
      content: [
        { type: 'text', text: `first half: ${R}` },
        { type: 'text', text: `${R} was the rest` },
      ],
    });
  });

  it('three ways across content items', () => {
    const out = s.sanitize(
      {
        content: [
          { type: 'text', text: a },
          { type: 'text', text: b },
          { type: 'text', text: c },
        ],
      },
      result,
    );
    expect(wire(out)).not.toContain(a + b);
    expect(out.content.map((x) => x.text)).toEqual([R, R, R]);
  });

  it('across adjacent array items, and across sibling values with different keys', () => {
    expect(s.sanitize({ parts: ['x', a, b, c, 'y'] }, result)).toEqual({ parts: ['x', R, R, R, 'y'] });
    expect(s.sanitize({ o: { first: a, second: b + c } }, result)).toEqual({ o: { first: R, second: R } });
  });

  it('across object keys, and across a key and its value', () => {
    expect(s.sanitize({ structuredContent: { [a]: 1, [b + c]: 2 } }, result)).toEqual({ structuredContent: { [R]: 1, [`${R} (2)`]: 2 } });
    expect(wire(s.sanitize({ structuredContent: { [a]: b + c } }, result))).not.toContain(b + c);
  });

  it('across the error message and its data', () => {
    const out = s.sanitize({ jsonrpc: '2.0', id: 1, error: { code: 1, message: `oops ${a}`, data: { more: b + c } } }, { kind: 'error', method: undefined });
    expect(wire(out)).not.toMatch(new RegExp(`${a}|${b}${c}`));
  });

  it('inside JSON text: the literals of an embedded array, and a split falling inside an escape', () => {
    const embedded = s.sanitize({ content: [{ type: 'text', text: JSON.stringify({ parts: [a, b, c] }) }] }, result);
    expect(embedded.content[0]?.text).toBe(`{"parts":["${R}","${R}","${R}"]}`);
    const quoted = 'ab"cd\\ef-secret-123';
    const s2 = setup(quoted).s;
    const escaped = JSON.stringify(quoted).slice(1, -1); // ab\"cd\\ef-secret-123
    const out = s2.sanitize(
      {
        content: [
          { type: 'text', text: escaped.slice(0, 3) },
          { type: 'text', text: escaped.slice(3) },
        ],
      },
      result,
    );
    expect(out.content.map((x) => x.text)).toEqual([R, R]);
  });

  it('across long texts: only the ends of each text meet, and both ends are found', () => {
    const filler = 'lorem ipsum '.repeat(2000);
    const out = s.sanitize(
      {
        content: [
          { type: 'text', text: `${filler}${a}` },
          { type: 'text', text: `${b + c}${filler}` },
          { type: 'text', text: `${filler}${SECRET}${filler}` },
        ],
      },
      result,
    );
    expect(out.content.map((x) => x.text)).toEqual([`${filler}${R}`, `${R}${filler}`, `${filler}${R}${filler}`]);
    // Pieces separated by a long text in between do not form the value.
    const apart = { parts: [a, filler, b + c] };
    expect(s.sanitize(apart, result)).toBe(apart);
  });

  it('does not touch strings that only share a prefix with a held value', () => {
    const message = { parts: [a, 'unrelated', b] };
    expect(s.sanitize(message, result)).toBe(message);
  });
});

describe('OutputSanitizer (held credentials): encodings, scope and registration', () => {
  it('redacts base64, hex and URL-encoded forms', () => {
    const { s } = setup('p@ss w0rd/+secret');
    const basic = Buffer.from('alice:p@ss w0rd/+secret').toString('base64');
    const out = s.sanitize(
      {
        content: [
          { type: 'text', text: `Authorization: Basic ${basic}` },
          { type: 'text', text: Buffer.from('p@ss w0rd/+secret').toString('hex') },
          { type: 'text', text: `q=${encodeURIComponent('p@ss w0rd/+secret')}` },
        ],
      },
      result,
    );
    const text = wire(out);
    expect(text).not.toContain(basic);
    expect(text).not.toContain(Buffer.from('p@ss w0rd/+secret').toString('hex'));
    expect(text).not.toContain(encodeURIComponent('p@ss w0rd/+secret'));
    expect(text.split(R).length).toBe(4);
  });

  it("redacts the caller's own credentials passed as scope, as [REDACTED:access_token]", () => {
    const { s } = setup();
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
    const out = s.sanitize({ content: [{ type: 'text', text: `you sent Authorization: Bearer ${token}` }] }, result, { credentials: [token] });
    expect(out.content[0]?.text).toBe('you sent Authorization: Bearer [REDACTED:access_token]');
    // Without the scope the token is ordinary text (it is not a credential Gatehouse holds).
    const plain = { content: [{ type: 'text', text: token }] };
    expect(s.sanitize(plain, result)).toBe(plain);
  });

  it('a result checked by the pipeline is not rescanned for held values, unless the set changed', () => {
    const { held, s } = setup(SECRET);
    const checked = s.sanitize({ content: [{ type: 'text', text: 'fine' }] }, result);
    expect(s.sanitize({ jsonrpc: '2.0', id: 1, result: checked }, result)).toEqual({ jsonrpc: '2.0', id: 1, result: checked });
    held.add('late-added-secret-value');
    // The set changed between the stage and the transport: the result is scanned again.
    const late = s.sanitize({ content: [{ type: 'text', text: 'late-added-secret-value' }] }, result);
    held.add('another-one-added-later');
    const mutated = { jsonrpc: '2.0', id: 1, result: { ...late, extra: 'another-one-added-later' } };
    expect(wire(s.sanitize(mutated, result))).not.toContain('another-one-added-later');
  });

  it('follows registrations and revocations of the log redactor it mirrors', () => {
    const redactor = new SecretRedactor();
    const held = new HeldValues();
    let changes = 0;
    mirrorRegistrations(redactor, held, () => changes++);
    mirrorRegistrations(redactor, held, () => changes++);
    const s = new OutputSanitizer(held, { detectors: { secrets: false, pii: false } });
    redactor.register('lease-password-123');
    expect(s.sanitize('pw lease-password-123', result)).toBe(`pw ${R}`);
    redactor.unregister('lease-password-123');
    expect(s.sanitize('pw lease-password-123', result)).toBe('pw lease-password-123');
    expect(changes).toBe(2);
    // Shorter than the held minimum: too likely to collide with ordinary text.
    redactor.register('abcdefg');
    expect(held.size).toBe(0);
  });

  it('refuses a message nested too deep to check', () => {
    const { s } = setup(SECRET);
    let deep: unknown = SECRET;
    for (let i = 0; i < MAX_DEPTH + 5; i++) deep = [deep];
    expect(() => s.sanitize(deep, result)).toThrow(SanitizeError);
  });
});

describe('OutputSanitizer (held credentials): a held value placed anywhere, split any way, never leaves', () => {
  // Characters of realistic secrets: no quote or backslash, which JSON itself would escape.
  const unit = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_+/=.~!@#$%^&*:;,'.split(''));
  const secretArb = fc.string({ unit, minLength: 8, maxLength: 40 });

  /** The secret cut into 1–4 pieces, with noise before the first and after the last. */
  const placed = fc.record({
    secret: secretArb,
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: 39 }), { maxLength: 3 }),
    before: fc.string({ maxLength: 5 }),
    after: fc.string({ maxLength: 5 }),
    where: fc.constantFrom('array', 'content', 'keys', 'values', 'embedded', 'error', 'meta'),
    noise: fc.jsonValue({ maxDepth: 3 }),
    at: fc.nat(),
  });

  function pieces(secret: string, cuts: number[], before: string, after: string): string[] {
    const points = [...new Set(cuts.filter((c) => c < secret.length))].sort((x, y) => x - y);
    const out: string[] = [];
    let from = 0;
    for (const p of points) {
      out.push(secret.slice(from, p));
      from = p;
    }
    out.push(secret.slice(from));
    out[0] = before + out[0];
    out[out.length - 1] += after;
    return out;
  }

  function message(where: string, parts: string[], noise: unknown, at: number): unknown {
    switch (where) {
      case 'array': {
        const list: unknown[] = [noise, 'x', 1];
        list.splice(at % (list.length + 1), 0, ...parts);
        return { result: { structuredContent: { list } } };
      }
      case 'content':
        return {
          content: [
            { type: 'text', text: 'intro' },
            ...parts.map((text) => ({ type: 'text', text })),
            { type: 'resource', resource: { uri: 'x://y', text: JSON.stringify(noise) } },
          ],
        };
      case 'keys':
        return { structuredContent: Object.fromEntries(parts.map((p, i) => [p, i])), noise };
      case 'values':
        return { structuredContent: Object.fromEntries(parts.map((p, i) => [`k${i}`, p])), noise };
      case 'embedded':
        return { content: [{ type: 'text', text: JSON.stringify({ noise, parts }) }] };
      case 'error':
        return { jsonrpc: '2.0', id: 1, error: { code: -1, message: parts[0], data: { rest: parts.slice(1), noise } } };
      default:
        return { content: [], _meta: { trace: parts, noise } };
    }
  }

  /**
   * The strings that sit where the pieces were put, joined: what an agent reading them in order
   * would see. Found by position, not by key: a key next to a piece can rightly be redacted too.
   */
  function reassembled(where: string, out: any, n: number, at: number): string {
    const nth = (value: any, i: number): any => Object.values(value)[i];
    switch (where) {
      case 'array': {
        const from = at % 4;
        return (nth(nth(nth(out, 0), 0), 0) as unknown[]).slice(from, from + n).join('');
      }
      case 'content':
        return (nth(out, 0) as unknown[])
          .slice(1, 1 + n)
          .map((c) => nth(c, 1))
          .join('');
      case 'keys':
        return Object.keys(nth(out, 0)).join('');
      case 'values':
        return Object.values(nth(out, 0) as Record<string, string>).join('');
      case 'embedded':
        return (nth(JSON.parse(nth(nth(nth(out, 0), 0), 1) as string), 1) as string[]).join('');
      case 'error': {
        const error = nth(out, 2);
        return [nth(error, 1), ...(nth(nth(error, 2), 0) as string[])].join('');
      }
      default:
        return (nth(nth(out, 1), 0) as string[]).join('');
    }
  }

  it('is never present in the serialized output, nor in the strings that held its pieces read in order', () => {
    fc.assert(
      fc.property(placed, ({ secret, cuts, before, after, where, noise, at }) => {
        const { s } = setup(secret);
        const parts = pieces(secret, cuts, before, after);
        // Object keys are unique, and integer-like keys are ordered first by JavaScript itself.
        fc.pre(where !== 'keys' || (new Set(parts).size === parts.length && parts.every((p) => !/^(0|[1-9][0-9]*)$/.test(p))));
        const input = message(where, parts, noise, at);
        // The placement really holds the secret (the check below is not vacuous).
        expect(reassembled(where, input, parts.length, at)).toContain(secret);
        const out = s.sanitize(input, result);
        expect(JSON.stringify(out)).not.toContain(secret);
        expect(reassembled(where, out, parts.length, at)).not.toContain(secret);
      }),
      { numRuns: 1000 },
    );
  });
});
