import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashArguments } from '../audit/index.js';
import { registerCredential, unregisterCredential } from '../log/index.js';
import type { ApprovalRecord } from '../storage/index.js';
import { argumentsView } from './arguments-view.js';
import { argumentsJson, captureArguments, renderArguments, visibleText, type CredentialFinder } from './exact-arguments.js';

/** The agent's arguments as the front door has them: parsed from the JSON-RPC body. */
const parsed = (json: string): unknown => JSON.parse(json);
const render = (args: unknown, find?: CredentialFinder) => renderArguments(captureArguments(args, find).node);
const ASCII_ONLY = /^[\x20-\x7e\n]*$/;

/** A record as the approve stage files it (captured by the same function). */
function recordFor(args: unknown, find?: CredentialFinder): ApprovalRecord {
  const captured = captureArguments(args, find);
  return {
    id: 'apr_t',
    status: 'pending',
    level: 'four-eyes',
    requester: { sub: 'alice', groups: [] },
    server: 'db',
    target: 'db__drop',
    method: 'tools/call',
    args: captured.node,
    argsFormat: 'exact-v1',
    argsMasked: captured.masked,
    argsHash: hashArguments(args),
    createdAt: 0,
    expiresAt: 1,
    breakGlass: false,
    anyClient: false,
  };
}

describe('the exact arguments view', () => {
  it('keeps every key — __proto__, constructor, prototype, toString, keys with control characters — with its value', () => {
    const args = parsed(
      '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":1}},"toString":"x","a\\u0000b":1,"":"empty key","line\\nbreak":2}',
    );
    const text = render(args);
    expect(text).toBe(
      [
        '{',
        '  "": "empty key",',
        '  "__proto__": {',
        '    "isAdmin": true',
        '  },',
        '  "a\\u0000b": 1,',
        '  "constructor": {',
        '    "prototype": {',
        '      "polluted": 1',
        '    }',
        '  },',
        '  "line\\nbreak": 2,',
        '  "toString": "x"',
        '}',
      ].join('\n'),
    );
    // Nothing was assigned through a prototype on the way.
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('shows a 100 KB string whole: nothing cut, nothing summarised', () => {
    const long = `${'A'.repeat(50_000)}MIDDLE${'B'.repeat(50_000)}END`;
    const text = render({ sql: long });
    expect(text).toBe(`{\n  "sql": "${long}"\n}`);
    expect(text).not.toMatch(/more chars|…|\[depth limit\]/);
  });

  it('makes bidi overrides, zero-width characters, look-alike letters, controls and lone surrogates visible as escapes', () => {
    const args = {
      file: 'invoice\u202Egpj.exe',
      user: 'ad\u200Bmin',
      cyrillic: '\u0430dmin',
      isolate: '\u2067x\u2069',
      bom: '\uFEFFa',
      tag: 'a\u{E0041}',
      lone: 'x\uD800y',
      ctl: '\u0007\u001b[31m\u007f\u0085',
      seps: 'a\u2028b\u2029c',
      emoji: '\u{1F600}',
      quote: 'say "hi" \\ bye',
    };
    const text = render(args);
    expect(text).toMatch(ASCII_ONLY);
    expect(text).toContain('"invoice\\u202egpj.exe"');
    expect(text).toContain('"ad\\u200bmin"');
    expect(text).toContain('"\\u0430dmin"');
    expect(text).toContain('"\\u2067x\\u2069"');
    expect(text).toContain('"\\ufeffa"');
    expect(text).toContain('"a\\udb40\\udc41"');
    expect(text).toContain('"x\\ud800y"');
    expect(text).toContain('"\\u0007\\u001b[31m\\u007f\\u0085"');
    expect(text).toContain('"a\\u2028b\\u2029c"');
    expect(text).toContain('"\\ud83d\\ude00"');
    expect(text).toContain('"say \\"hi\\" \\\\ bye"');
    // Keys get the same treatment: a look-alike key cannot pass for another.
    expect(render(parsed('{"\u0430dmin":true,"admin":false}'))).toBe('{\n  "admin": false,\n  "\\u0430dmin": true\n}');
  });

  it('shows numbers as they go upstream and types as they are: 1 is not "1"', () => {
    const args = parsed(
      '{"n":1e21,"neg":-0,"sum":0.30000000000000004,"s1":"1e21","s2":"-0","s3":"0.1+0.2","one":1,"oneStr":"1","t":true,"tStr":"true","nul":null,"nulStr":"null","big":12345678901234567890,"small":5e-324,"arr":[1,"1",[],{}]}',
    );
    expect(render(args)).toBe(
      [
        '{',
        '  "arr": [',
        '    1,',
        '    "1",',
        '    [],',
        '    {}',
        '  ],',
        // What JSON.stringify sends upstream for the parsed double (the request's own digits are gone by then).
        `  "big": ${JSON.stringify(12345678901234567890)},`,
        '  "n": 1e+21,',
        '  "neg": 0,',
        '  "nul": null,',
        '  "nulStr": "null",',
        '  "one": 1,',
        '  "oneStr": "1",',
        '  "s1": "1e21",',
        '  "s2": "-0",',
        '  "s3": "0.1+0.2",',
        '  "small": 5e-324,',
        '  "sum": 0.30000000000000004,',
        '  "t": true,',
        '  "tStr": "true"',
        '}',
      ].join('\n'),
    );
  });

  it('renders deep nesting (as deep as canonical JSON accepts) and refuses deeper', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 60; i++) deep = i % 2 ? { k: deep } : [deep];
    const text = render(deep);
    expect(text).toContain('"bottom"');
    expect(text.split('\n')).toHaveLength(121);
    let tooDeep: unknown = 1;
    for (let i = 0; i < 70; i++) tooDeep = [tooDeep];
    // The hash is total (a refused call still gets a record); the gateway refuses such
    // arguments before any approval is filed, and capturing them throws rather than mis-render.
    expect(hashArguments(tooDeep)).toMatch(/^sha256:/);
    expect(() => captureArguments(tooDeep)).toThrow(TypeError);
  });

  it('without masks, the rendering is JSON that parses back to exactly the hashed arguments', () => {
    const args = parsed('{"__proto__":{"x":[1,2]},"b":"\\u202e","c":1e21,"9":1,"10":2}');
    const text = render(args);
    expect(hashArguments(JSON.parse(text))).toBe(hashArguments(args));
    expect(argumentsJson(captureArguments(args).node)).toBe(canonicalJson(args));
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const args2 = { v: value };
        const captured = captureArguments(args2, () => []);
        const rendered = renderArguments(captured.node);
        expect(rendered).toMatch(ASCII_ONLY);
        expect(hashArguments(JSON.parse(rendered))).toBe(hashArguments(args2));
        expect(argumentsJson(captured.node)).toBe(canonicalJson(args2));
        expect(captured.argsHash).toBe(hashArguments(args2));
      }),
      { numRuns: 300 },
    );
  });

  it('masks only held credentials, as a bare token that text from the agent cannot imitate', () => {
    const held = 'S3cret-held-value';
    const find: CredentialFinder = (text) => {
      const out: [number, number][] = [];
      for (let at = text.indexOf(held); at !== -1; at = text.indexOf(held, at + held.length)) out.push([at, at + held.length]);
      return out;
    };
    const captured = captureArguments(
      { dsn: `postgres://app:${held}@db/prod`, whole: held, [`k-${held}`]: 1, forged: '[REDACTED:vault]', jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig' },
      find,
    );
    expect(captured.masked).toBe(true);
    const text = renderArguments(captured.node);
    expect(text).not.toContain(held);
    expect(text).toContain('"dsn": "postgres://app:" + [REDACTED:vault] + "@db/prod"');
    expect(text).toContain('"whole": [REDACTED:vault]');
    expect(text).toContain('"k-" + [REDACTED:vault]: 1');
    // The agent's own text that looks like a mask is a quoted string.
    expect(text).toContain('"forged": "[REDACTED:vault]"');
    // Credential-shaped text that Gatehouse does not hold is shown: the approver decides on it.
    expect(text).toContain('"jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig"');
    expect(argumentsJson(captured.node)).not.toContain(held);
  });

  it('masks the credentials Gatehouse holds (the process registry), nothing else', () => {
    const canary = 'canary-7f3a9c-approval-held';
    registerCredential(canary);
    try {
      const record = recordFor({ note: `use ${canary} please`, other: 'canary' });
      const view = argumentsView(record);
      expect(view).toMatchObject({ integrity: 'masked', hidden: true });
      expect(view.text).toContain('"note": "use " + [REDACTED:vault] + " please"');
      expect(view.text).toContain('"other": "canary"');
      expect(view.text + view.json).not.toContain(canary);
    } finally {
      unregisterCredential(canary);
    }
  });

  it('says how far the view can be trusted: exact, masked, a legacy redacted copy, or a mismatch with the hash', () => {
    const exact = recordFor(parsed('{"__proto__":{"a":1},"n":1}'));
    expect(argumentsView(exact)).toMatchObject({ integrity: 'exact', hidden: false, argsHash: exact.argsHash });
    expect(argumentsView(exact).json).toBe('{"__proto__":{"a":1},"n":1}');
    expect(argumentsView(exact).viewHash).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);

    // Storage edited: the view no longer hashes to what the approval binds.
    const edited = { ...exact, args: { o: [['n', 2]] } };
    expect(argumentsView(edited)).toMatchObject({ integrity: 'mismatch', hidden: true });
    const garbage = { ...exact, args: { o: [['n', { evil: true }]] } };
    expect(argumentsView(garbage)).toMatchObject({ integrity: 'mismatch', hidden: true });
    expect(argumentsView(garbage).text).toContain('stored arguments unreadable');

    const legacy = { ...exact, argsFormat: 'redacted' as const, args: { password: '[REDACTED]', sql: 'x…[5 more chars]' } };
    expect(argumentsView(legacy)).toMatchObject({ integrity: 'legacy', hidden: true });
    expect(argumentsView(legacy).text).toContain('"password": "[REDACTED]"');
  });

  it('escapes untrusted one-line text (reasons, tool names) the same way', () => {
    expect(visibleText('ok\u202Etxt\u200B')).toBe('ok\\u202etxt\\u200b');
  });
});
