import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Principal } from './principal.js';
import { checkReach, scopesWithin, stepUpScope } from './reach.js';
import { constraintImplies, detailWithin, satisfies, toolCallDetailProblem, type ArgumentConstraint } from './tool-call-details.js';

const p = (scopes: string[], authorizationDetails?: Record<string, unknown>[]): Principal => ({
  sub: 'alice',
  groups: [],
  clientId: 'c',
  scopes,
  jti: 'j',
  issuedAt: 0,
  expiresAt: 1,
  act: [],
  authorizationDetails,
  authTime: undefined,
  amr: [],
  grantId: undefined,
  dpopJkt: undefined,
  claims: {},
});
const tool = (server: string, name: string, args?: Record<string, unknown>) => ({ kind: 'tool' as const, server, name, id: `${server}__${name}`, args });

describe('token reach', () => {
  it('needs the base scope', () => {
    expect(checkReach(p([]), tool('db', 'query'))).toEqual({ ok: false, reason: 'scope', missingScope: 'mcp' });
    expect(checkReach(p(['mcp']), tool('db', 'query'))).toEqual({ ok: true });
  });

  it('binds to servers and tools once any server:/tool: scope is present', () => {
    const token = p(['mcp', 'server:docs', 'tool:db__query']);
    expect(checkReach(token, tool('docs', 'read'))).toEqual({ ok: true });
    expect(checkReach(token, tool('db', 'query'))).toEqual({ ok: true });
    expect(checkReach(token, tool('db', 'drop'))).toEqual({ ok: false, reason: 'scope', missingScope: 'tool:db__drop' });
    expect(checkReach(token, { kind: 'prompt', server: 'db', name: 'p', id: 'db__p' })).toEqual({ ok: false, reason: 'scope', missingScope: 'server:db' });
    expect(stepUpScope(token, 'tool:db__drop')).toBe('mcp server:docs tool:db__query tool:db__drop');
  });

  it('binds to authorization details and their argument bounds', () => {
    const token = p(
      ['mcp'],
      [{ type: 'gatehouse_tool_call', server: 'db', tool: 'query', arguments: { table: { const: 'orders' }, limit: { maximum: 100 } } }],
    );
    expect(checkReach(token, tool('db', 'query', { table: 'orders', limit: 10 }))).toEqual({ ok: true });
    expect(checkReach(token, tool('db', 'query', { table: 'users', limit: 10 }))).toEqual({ ok: false, reason: 'authorization_details' });
    expect(checkReach(token, tool('db', 'query', { table: 'orders', limit: 1000 }))).toEqual({ ok: false, reason: 'authorization_details' });
    expect(checkReach(token, tool('db', 'query', { table: 'orders' }))).toEqual({ ok: false, reason: 'authorization_details' });
    expect(checkReach(token, tool('db', 'query'), false)).toEqual({ ok: true });
    expect(checkReach(token, { kind: 'resource', server: 'db', name: 'x', id: 'x' })).toEqual({ ok: false, reason: 'authorization_details' });
  });

  it('decides narrowing for token exchange', () => {
    expect(scopesWithin(['mcp', 'server:a'], ['mcp'])).toBe(true);
    expect(scopesWithin(['mcp'], ['mcp', 'server:a'])).toBe(false);
    expect(scopesWithin(['mcp', 'tool:a__x'], ['mcp', 'server:a'])).toBe(true);
    expect(scopesWithin(['mcp', 'server:a'], ['mcp', 'tool:a__x'])).toBe(false);
    expect(scopesWithin(['mcp', 'tool:b__x'], ['mcp', 'server:a'])).toBe(false);
    expect(scopesWithin(['mcp'], ['server:a'])).toBe(false);
  });

  it('validates detail shape', () => {
    const known = (s: string) => s === 'db';
    expect(toolCallDetailProblem({ type: 'gatehouse_tool_call', server: 'db', tool: 'q' }, known)).toBeUndefined();
    expect(toolCallDetailProblem({ type: 'gatehouse_tool_call', server: 'nope', tool: 'q' }, known)).toMatch(/unknown server/);
    expect(toolCallDetailProblem({ type: 'gatehouse_tool_call', server: 'db', tool: 'q', arguments: { a: { pattern: '.*' } } }, known)).toMatch(
      /unsupported constraint/,
    );
    expect(toolCallDetailProblem({ type: 'gatehouse_tool_call', server: 'db', tool: 'q', evil: 1 }, known)).toMatch(/unknown member/);
  });

  it('constraint implication is sound: whatever the narrow one accepts, the wide one accepts', () => {
    const constraint = fc.record(
      {
        const: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('a', 'ab', 'b')),
        enum: fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom('a', 'ab', 'b')), { minLength: 1, maxLength: 3 }),
        prefix: fc.constantFrom('', 'a', 'ab'),
        minimum: fc.integer({ min: -5, max: 5 }),
        maximum: fc.integer({ min: -5, max: 5 }),
        maxLength: fc.integer({ min: 0, max: 3 }),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<ArgumentConstraint>;
    const value = fc.oneof(fc.integer({ min: -6, max: 6 }), fc.constantFrom('', 'a', 'ab', 'abc', 'b'));
    fc.assert(
      fc.property(constraint, constraint, fc.array(value, { maxLength: 20 }), (narrow, wide, values) => {
        if (!constraintImplies(narrow, wide)) return true;
        return values.every((v) => !satisfies(v, narrow) || satisfies(v, wide));
      }),
      { numRuns: 3000 },
    );
    expect(
      detailWithin(
        { type: 'gatehouse_tool_call', server: 'db', tool: 'q', arguments: { limit: { maximum: 10 } } },
        { type: 'gatehouse_tool_call', server: 'db', tool: 'q', arguments: { limit: { maximum: 100 } } },
      ),
    ).toBe(true);
    expect(
      detailWithin(
        { type: 'gatehouse_tool_call', server: 'db', tool: 'q' },
        { type: 'gatehouse_tool_call', server: 'db', tool: 'q', arguments: { limit: { maximum: 100 } } },
      ),
    ).toBe(false);
  });
});
