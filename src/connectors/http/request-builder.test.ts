import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParamsError } from '../../errors/index.js';
import { parsePathTemplate, pathTemplateProblem } from '../../config/http/path-template.js';
import { buildRequest, encodePathParam } from './request-builder.js';
import { parseBinding, type HttpToolSpec } from './tool-spec.js';

const BASE = new URL('https://api.example.com/v1');

function spec(over: Partial<HttpToolSpec> = {}): HttpToolSpec {
  return {
    name: 't',
    description: '',
    method: 'GET',
    path: parsePathTemplate('/invoices/{id}'),
    inputSchema: { type: 'object' },
    query: [],
    headers: [],
    body: undefined,
    readOnly: true,
    response: { fields: undefined, maxBytes: 1024, contentTypes: ['application/json'] },
    source: 'config',
    ...over,
  };
}

function refused(fn: () => unknown): InvalidParamsError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidParamsError);
  expect((caught as InvalidParamsError).code).toBe('http.invalid_argument');
  return caught as InvalidParamsError;
}

describe('path parameters', () => {
  it.each([
    '..',
    '.',
    '../admin',
    'a/../b',
    'a/b',
    '/etc/passwd',
    '\\admin',
    'a\\b',
    '%2e%2e',
    '%2E%2E',
    '%2e.',
    '.%2e',
    '%2f',
    '%2F',
    'a%2fb',
    '%5c',
    '%252e%252e',
    '%25252f',
    'x\r\nHost: evil',
    'x\nfoo',
    'tab\there',
    'nul\u0000',
    'del\u007f',
    'c1\u0085',
    'lone\ud800surrogate',
    '',
    'a'.repeat(1025),
  ])('refuses %j before building anything', (value) => {
    const error = refused(() => buildRequest(spec(), BASE, { id: value }));
    expect(error.data).toMatchObject({ argument: 'id' });
  });

  it('refuses objects, arrays, missing and non-finite values', () => {
    for (const value of [{}, [], ['a'], undefined, null, Number.NaN, Number.POSITIVE_INFINITY]) refused(() => buildRequest(spec(), BASE, { id: value }));
  });

  it('encodes everything else as exactly one segment below the base path', () => {
    const built = buildRequest(spec(), BASE, { id: 'a b?c#d&e=f;g@h:i+j!k*(l)\'m"n<o>p{q}r|s^t`u~v%w' });
    expect(built.url.origin).toBe('https://api.example.com');
    expect(built.url.search).toBe('');
    expect(built.url.hash).toBe('');
    const segments = built.url.pathname.split('/');
    expect(segments.slice(0, 3)).toEqual(['', 'v1', 'invoices']);
    expect(segments).toHaveLength(4);
    expect(decodeURIComponent(segments[3] as string)).toBe('a b?c#d&e=f;g@h:i+j!k*(l)\'m"n<o>p{q}r|s^t`u~v%w');
    expect(buildRequest(spec(), BASE, { id: 42 }).url.pathname).toBe('/v1/invoices/42');
    expect(buildRequest(spec(), BASE, { id: 'inv-1' }).url.href).toBe('https://api.example.com/v1/invoices/inv-1');
  });

  it('property: any string is refused or lands in one segment of the same origin, decoding to itself', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('..', '%2e', '//evil.com', '@evil.com', ':443', 'http://evil', '\udc00')),
        (value) => {
          let built: ReturnType<typeof buildRequest>;
          try {
            built = buildRequest(spec(), BASE, { id: value });
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidParamsError);
            return;
          }
          expect(built.url.origin).toBe(BASE.origin);
          const segments = built.url.pathname.split('/');
          expect(segments).toHaveLength(4);
          expect(decodeURIComponent(segments[3] as string)).toBe(value);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("encodePathParam keeps unreserved characters and escapes the rest, including !'()*", () => {
    expect(encodePathParam('x', "a!b'c(d)e*f")).toBe('a%21b%27c%28d%29e%2Af');
    expect(encodePathParam('x', 'ü')).toBe('%C3%BC');
  });
});

describe('an argument cannot change scheme, host or port', () => {
  it.each(['https://evil.com', '//evil.com', 'evil.com:8443', '@evil.com', 'x@evil.com', '\\\\evil.com'])('%j stays a path segment or is refused', (value) => {
    let built: ReturnType<typeof buildRequest> | undefined;
    try {
      built = buildRequest(spec(), BASE, { id: value });
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidParamsError);
    }
    if (built) expect(built.url.host).toBe('api.example.com');
  });

  it('query values go through URLSearchParams: & = # cannot add parameters', () => {
    const built = buildRequest(spec({ path: parsePathTemplate('/invoices'), query: [['status', parseBinding('{status}')]] }), BASE, {
      status: 'paid&admin=1#x',
    });
    expect([...built.url.searchParams]).toEqual([['status', 'paid&admin=1#x']]);
    expect(built.url.hash).toBe('');
  });

  it('arrays repeat a query parameter; objects and control characters are refused', () => {
    const s = spec({ path: parsePathTemplate('/invoices'), query: [['tag', parseBinding('{tag}')]] });
    expect(buildRequest(s, BASE, { tag: ['a', 'b'] }).url.search).toBe('?tag=a&tag=b');
    refused(() => buildRequest(s, BASE, { tag: { a: 1 } }));
    refused(() => buildRequest(s, BASE, { tag: 'a\r\nb' }));
    expect(buildRequest(s, BASE, {}).url.search).toBe('');
  });
});

describe('headers', () => {
  const s = spec({ path: parsePathTemplate('/x'), headers: [['X-Customer', parseBinding('cust-{c}')]] });
  it.each(['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\u0000b', 'ā€'])('refuses %j', (value) => {
    refused(() => buildRequest(s, BASE, { c: value }));
  });
  it('sends a clean value, and omits the header when the argument is absent', () => {
    expect(buildRequest(s, BASE, { c: 'ACME 1' }).headers).toEqual({ 'x-customer': 'cust-ACME 1' });
    expect(buildRequest(s, BASE, {}).headers).toEqual({});
  });
});

describe('body templates', () => {
  it('substitutes typed values, drops absent ones, and gives no prototype to the result', () => {
    const s = spec({
      method: 'POST',
      path: parsePathTemplate('/invoices'),
      body: { template: { customer: '{customer}', amount: '{amount}', note: 'ref {ref}', __proto__x: 1 } },
    });
    const built = buildRequest(s, BASE, { customer: 'ACME', amount: 12.5 });
    expect(JSON.parse(built.body as string)).toEqual({ customer: 'ACME', amount: 12.5, note: 'ref ', __proto__x: 1 });
    expect(built.headers['content-type']).toBe('application/json');
    const whole = buildRequest(spec({ method: 'POST', body: { template: '{body}' } }), BASE, { id: '1', body: { a: [1, 2] } });
    expect(JSON.parse(whole.body as string)).toEqual({ a: [1, 2] });
  });
});

describe('path templates', () => {
  it('refuses templates that are not paths or hide dot segments', () => {
    for (const bad of ['invoices', '/a/../b', '/a/./b', '/a/{id', '/a/{}', '/a/{x y}', '/a?b=1', '/a#b', '/a/%2e%2e', '/a\\b'])
      expect(pathTemplateProblem(bad), bad).toBeDefined();
    for (const good of ['/', '/invoices', '/invoices/{id}', '/files/{name}.json', '/a/{b}/c/{d}', '/v1:batch'])
      expect(pathTemplateProblem(good), good).toBeUndefined();
  });
});
