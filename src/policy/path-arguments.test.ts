import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidPathError } from '../errors/index.js';
import { constraintImplies, prefixCovers, satisfies } from '../tokens/tool-call-details.js';
import { normalizePath } from './normalize-path.js';
import { normalizePathArguments, normalizeResourceUri, pathArgumentNames } from './path-arguments.js';

const ok = (value: string) => ({ ok: true, value });

describe('normalizePath', () => {
  it('removes repeated slashes, "." segments and resolves ".." within the path', () => {
    expect(normalizePath('/srv/public/a/b.txt')).toEqual(ok('/srv/public/a/b.txt'));
    expect(normalizePath('/srv//public/./a///b.txt')).toEqual(ok('/srv/public/a/b.txt'));
    expect(normalizePath('/srv/public/../../etc/passwd')).toEqual(ok('/etc/passwd'));
    expect(normalizePath('/srv/public/a/../b')).toEqual(ok('/srv/public/b'));
    expect(normalizePath('/srv/public/')).toEqual(ok('/srv/public/'));
    expect(normalizePath('/srv/public/a/..')).toEqual(ok('/srv/public/'));
    expect(normalizePath('notes.md')).toEqual(ok('notes.md'));
    expect(normalizePath('./a/./b/../c')).toEqual(ok('a/c'));
    expect(normalizePath('.')).toEqual(ok('.'));
    expect(normalizePath('/')).toEqual(ok('/'));
    // Dots inside names are names.
    expect(normalizePath('/srv/public/..hidden/a...b')).toEqual(ok('/srv/public/..hidden/a...b'));
  });

  it('treats backslashes as separators', () => {
    expect(normalizePath('/srv/public\\..\\..\\etc\\passwd')).toEqual(ok('/etc/passwd'));
    expect(normalizePath('\\srv\\public\\a.txt')).toEqual(ok('/srv/public/a.txt'));
  });

  it('refuses ".." that climbs above the root or above a relative base', () => {
    expect(normalizePath('/../etc/passwd')).toMatchObject({ ok: false, reason: 'climbs above the root directory' });
    expect(normalizePath('/srv/../../etc')).toMatchObject({ ok: false });
    expect(normalizePath('../secret')).toMatchObject({ ok: false, reason: 'climbs above the directory it is relative to' });
    expect(normalizePath('a/../../b')).toMatchObject({ ok: false });
    expect(normalizePath('..\\..\\x')).toMatchObject({ ok: false });
  });

  it('refuses NUL and percent-encoded dots, slashes, backslashes and NULs in plain paths', () => {
    expect(normalizePath('/srv/public/a.txt\u0000.png')).toMatchObject({ ok: false, reason: 'contains a NUL character' });
    for (const p of [
      '/srv/public/%2e%2e/%2e%2e/etc/passwd',
      '/srv/public/%2E%2E/x',
      '/srv/public%2f..%2fetc',
      '/srv/public/..%5c..%5cetc',
      '/srv/public/a%00b',
    ]) {
      expect(normalizePath(p), p).toMatchObject({ ok: false });
    }
    // Other escapes are just characters of a name.
    expect(normalizePath('/srv/public/100%25.txt')).toEqual(ok('/srv/public/100%25.txt'));
  });

  it('normalises file: URIs and keeps them URIs; refuses hosts, queries, bad and double encoding', () => {
    expect(normalizePath('file:///srv/public/../../etc/passwd')).toEqual(ok('file:///etc/passwd'));
    expect(normalizePath('file:///srv/public/%2e%2e/%2e%2e/etc/passwd')).toEqual(ok('file:///etc/passwd'));
    expect(normalizePath('FILE://localhost/srv//public/./a%20b.txt')).toEqual(ok('file:///srv/public/a%20b.txt'));
    expect(normalizePath('file:/srv/public/a.txt')).toEqual(ok('file:///srv/public/a.txt'));
    expect(normalizePath('file:///../etc')).toMatchObject({ ok: false });
    expect(normalizePath('file://evil.example/srv/public/a')).toMatchObject({ ok: false, reason: 'is a file: URI naming another host ("evil.example")' });
    expect(normalizePath('file:///srv/public/a?x=1')).toMatchObject({ ok: false });
    expect(normalizePath('file:///srv/public/%E0%A4%A')).toMatchObject({ ok: false, reason: 'is a file: URI with malformed percent-encoding' });
    expect(normalizePath('file:///srv/public/%252e%252e/x')).toMatchObject({ ok: false, reason: 'is a file: URI percent-encoded twice' });
    expect(normalizePath('file:///srv/public/a%00b')).toMatchObject({ ok: false, reason: 'contains a NUL character' });
    expect(normalizePath('file:relative/x')).toMatchObject({ ok: false });
  });

  it('is idempotent and never leaves a ".." segment or an empty segment in what it accepts', () => {
    const segment = fc.constantFrom('a', 'b', '.', '..', '', '...', 'c.d', '\\', '%2e');
    fc.assert(
      fc.property(fc.boolean(), fc.array(segment, { maxLength: 10 }), (absolute, parts) => {
        const input = `${absolute ? '/' : ''}${parts.join('/')}`;
        const once = normalizePath(input);
        if (!once.ok) return;
        expect(normalizePath(once.value)).toEqual(once);
        // A leading backslash is a separator too: judge absoluteness by the result.
        const segments = once.value.split('/').slice(once.value.startsWith('/') ? 1 : 0, once.value.endsWith('/') ? -1 : undefined);
        expect(segments.includes('..')).toBe(false);
        if (once.value !== '/' && once.value !== '.') expect(segments.includes('')).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('normalizePathArguments', () => {
  it('normalises the well-known path arguments, lists of them and any file: URI; leaves other arguments', () => {
    const args = {
      path: '/srv/public/./a//b.txt',
      paths: ['/srv/public/x/../y', 'rel/./z'],
      source: '/a/b/../c',
      query: '../not/a/path',
      link: 'file:///srv//x',
      n: 3,
    };
    expect(normalizePathArguments(args, {})).toEqual({
      path: '/srv/public/a/b.txt',
      paths: ['/srv/public/y', 'rel/z'],
      source: '/a/c',
      query: '../not/a/path',
      link: 'file:///srv/x',
      n: 3,
    });
  });

  it('returns the very same object when nothing changes', () => {
    const args = { path: '/srv/public/a.txt', text: 'x' };
    expect(normalizePathArguments(args, {})).toBe(args);
  });

  it('refuses with a stable error naming the argument', () => {
    const refusal = (() => {
      try {
        normalizePathArguments({ paths: ['/srv/public/a', '/../../etc/shadow'] }, {});
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(InvalidPathError);
    expect(refusal).toMatchObject({
      code: 'mcp.invalid_path',
      reason: 'invalid_path',
      rpcCode: -32602,
      data: { argument: 'paths[1]', reason: 'invalid_path' },
    });
    expect((refusal as Error).message).toBe('Argument "paths[1]" is not an acceptable path: it climbs above the root directory.');
  });

  it('uses the configured list instead of the well-known names, and schema formats in addition to them', () => {
    expect(pathArgumentNames({ configured: ['target'] })).toEqual(new Set(['target']));
    expect(normalizePathArguments({ target: '/a/./b', path: 'x/../..' }, { configured: ['target'] })).toEqual({ target: '/a/b', path: 'x/../..' });
    const schema = {
      type: 'object',
      properties: { where: { type: 'string', format: 'path' }, many: { type: 'array', items: { type: 'string', format: 'file-path' } } },
    };
    expect(normalizePathArguments({ where: '/a//b', many: ['/c/./d'] }, { inputSchema: schema })).toEqual({ where: '/a/b', many: ['/c/d'] });
  });

  it('keeps an own __proto__ argument an own argument', () => {
    const args = JSON.parse('{"__proto__": "file:///a//b", "path": "/x"}') as Record<string, unknown>;
    const out = normalizePathArguments(args, {});
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"__proto__":"file:///a/b","path":"/x"}');
  });

  it('resource URIs: file: URIs normalised or refused, other schemes untouched', () => {
    expect(normalizeResourceUri('file:///srv/public/../x')).toBe('file:///srv/x');
    expect(normalizeResourceUri('mem://a/../b')).toBe('mem://a/../b');
    expect(() => normalizeResourceUri('file:///../../etc/passwd')).toThrow(InvalidPathError);
  });
});

describe('token prefix constraints on paths', () => {
  it('compare whole segments', () => {
    expect(prefixCovers('/srv/public', '/srv/public')).toBe(true);
    expect(prefixCovers('/srv/public/a/b.txt', '/srv/public')).toBe(true);
    expect(prefixCovers('/srv/publicity/x', '/srv/public')).toBe(false);
    expect(prefixCovers('/srv/public-data', '/srv/public')).toBe(false);
    expect(prefixCovers('/srv/public/x', '/srv/public/')).toBe(true);
    expect(prefixCovers('file:///srv/publicity', 'file:///srv/public')).toBe(false);
    // Not a path: a plain string prefix, as before.
    expect(prefixCovers('orders_2024', 'orders')).toBe(true);
    expect(satisfies('/srv/publicity/a', { prefix: '/srv/public' })).toBe(false);
  });

  it('a traversal normalised before the check is judged by where it leads', () => {
    const [path] = [normalizePathArguments({ path: '/srv/public/../../etc/passwd' }, {}).path as string];
    expect(path).toBe('/etc/passwd');
    expect(satisfies(path, { prefix: '/srv/public' })).toBe(false);
  });

  it('narrowing stays sound: a prefix implied by another accepts only values the other accepts', () => {
    const piece = fc.constantFrom('/', 'srv', 'pub', 'public', 'lic', 'a', '-x');
    const text = fc.array(piece, { maxLength: 5 }).map((p) => p.join(''));
    fc.assert(
      fc.property(text, text, text, (narrow, wide, value) => {
        if (constraintImplies({ prefix: narrow }, { prefix: wide }) && satisfies(value, { prefix: narrow }))
          expect(satisfies(value, { prefix: wide })).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
