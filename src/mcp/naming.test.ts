import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { validateConfig } from '../config/index.js';
import { isQualifier, Naming, qualify, unqualify } from './naming.js';

describe('Naming', () => {
  it('leaves names alone for a single server in auto mode', () => {
    const n = new Naming([{ name: 'echo', prefix: 'echo' }], 'auto');
    expect(n.prefixed).toBe(false);
    expect(n.expose('echo', 'say')).toBe('say');
    expect(n.parse('say')).toEqual({ server: 'echo', name: 'say' });
  });

  it('prefixes with several servers and splits at the first separator', () => {
    const n = new Naming(
      [
        { name: 'fs', prefix: 'files' },
        { name: 'mem', prefix: 'mem' },
      ],
      'auto',
    );
    expect(n.expose('fs', 'read__file')).toBe('files__read__file');
    expect(n.parse('files__read__file')).toEqual({ server: 'fs', name: 'read__file' });
    expect(n.parse('fs__read')).toBeUndefined();
    expect(n.parse('nope')).toBeUndefined();
    expect(n.parse('mem__')).toBeUndefined();
  });

  it('always prefixes in mode always, even with one server', () => {
    const n = new Naming([{ name: 'echo', prefix: 'echo' }], 'always');
    expect(n.expose('echo', 'say')).toBe('echo__say');
    expect(n.parse('say')).toBeUndefined();
  });

  it('qualifies with the server name, not the prefix', () => {
    expect(qualify('fs', 'read')).toBe('fs__read');
  });
});

describe('qualified names are injective', () => {
  const serverName = fc
    .string({ unit: fc.constantFrom('o', 'p', 's', '_', '-', '1'), minLength: 1, maxLength: 6 })
    .filter((s) => isQualifier(s) && /^[A-Za-z0-9]/.test(s));
  const toolName = fc.string({ unit: fc.constantFrom('r', 'e', '_', '-', 's'), maxLength: 6 });
  const pair = fc.tuple(serverName, toolName);

  it('the reported collision cannot be configured, and qualify splits back at the first separator', () => {
    expect(isQualifier('ops_')).toBe(false);
    expect(isQualifier('_ops')).toBe(false);
    expect(isQualifier('o__ps')).toBe(false);
    expect(unqualify(qualify('ops', '_restart'))).toEqual({ server: 'ops', name: '_restart' });
    expect(() => new Naming([{ name: 'ops_', prefix: 'ops_' }], 'always')).toThrow(/cannot be qualified unambiguously/);
    expect(
      () =>
        new Naming(
          [
            { name: 'a', prefix: 'x' },
            { name: 'b', prefix: 'x' },
          ],
          'always',
        ),
    ).toThrow(/used by two servers/);
  });

  it('distinct (server, tool) pairs never qualify to the same id; unqualify inverts qualify', () => {
    fc.assert(
      fc.property(pair, pair, ([s1, t1], [s2, t2]) => {
        if (s1 !== s2 || t1 !== t2) expect(qualify(s1, t1)).not.toBe(qualify(s2, t2));
        expect(unqualify(qualify(s1, t1))).toEqual({ server: s1, name: t1 });
      }),
      { numRuns: 5000 },
    );
  });

  it('in every naming mode, the name the agent sees leads back to the one pair it came from (or to none)', () => {
    const servers = fc
      .uniqueArray(fc.tuple(serverName, serverName), { minLength: 1, maxLength: 4, selector: ([name]) => name })
      .filter((list) => new Set(list.map(([, prefix]) => prefix)).size === list.length);
    fc.assert(
      fc.property(
        servers,
        fc.constantFrom('auto', 'always', 'never') as fc.Arbitrary<'auto' | 'always' | 'never'>,
        fc.array(toolName, { minLength: 1, maxLength: 4 }),
        (list, mode, tools) => {
          const naming = new Naming(
            list.map(([name, prefix]) => ({ name, prefix })),
            mode,
          );
          const seen = new Map<string, string>();
          for (const [server] of list) {
            for (const tool of tools) {
              const exposed = naming.expose(server, tool);
              const parsed = naming.parse(exposed);
              if (naming.prefixed) {
                // Prefixed: injective, and parsing recovers exactly this pair.
                expect(seen.get(exposed) ?? `${server}\u0000${tool}`).toBe(`${server}\u0000${tool}`);
                seen.set(exposed, `${server}\u0000${tool}`);
                if (tool !== '') expect(parsed).toEqual({ server, name: tool });
              } else {
                // Unprefixed: the name alone names a server only when there is one; otherwise the
                // catalog decides, and refuses a name two servers share.
                expect(parsed).toEqual(list.length === 1 ? { server, name: tool } : undefined);
              }
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('configuration refuses names that would make qualification ambiguous', () => {
  const issues = (servers: Record<string, unknown>) => {
    try {
      validateConfig({ servers }, 'test', '/tmp', { env: {} });
    } catch (error) {
      if (error instanceof ConfigError) return error.issues;
      throw error;
    }
    return [];
  };

  it('names the key path of a server name or prefix ending with "_", starting with "_" or holding "__"', () => {
    expect(issues({ ops_: { command: 'x' } })).toEqual([{ path: 'servers.ops_', message: expect.stringContaining('must not end with "_"') }]);
    expect(issues({ _ops: { command: 'x' } })).toEqual([{ path: 'servers._ops', message: expect.stringContaining('start with a letter or digit') }]);
    expect(issues({ o__ps: { command: 'x' } })).toEqual([{ path: 'servers.o__ps', message: expect.stringContaining('"__"') }]);
    expect(issues({ ops: { command: 'x', prefix: 'ops_' } })).toEqual([
      { path: 'servers.ops.prefix', message: expect.stringContaining('must not end with "_"') },
    ]);
    expect(issues({ ops: { command: 'x', prefix: '_o' } })).toEqual([
      { path: 'servers.ops.prefix', message: expect.stringContaining('start with a letter or digit') },
    ]);
    expect(issues({ 'ops-1': { command: 'x', prefix: 'o_p' } })).toEqual([]);
  });
});
