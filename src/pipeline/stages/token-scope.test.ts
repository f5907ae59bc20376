import { describe, expect, it } from 'vitest';
import { fakeCall, fakeNext } from '../../../test/helpers/call-context.js';
import { PolicyDeniedError } from '../../errors/index.js';
import { tokenScopeStage } from './token-scope.js';

describe('token-scope stage', () => {
  const stage = tokenScopeStage();

  it('lets a token with the base scope through to every tool', async () => {
    const next = fakeNext();
    await stage.run(fakeCall(), next);
    expect(next.calls).toBe(1);
  });

  it('refuses a tool outside a narrowed token, naming the scope it needs, and runs nothing after', async () => {
    const next = fakeNext();
    const call = fakeCall({ principal: { scopes: ['mcp', 'server:other'] } });
    const error = await stage.run(call, next).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect(error).toMatchObject({ code: 'policy.denied', reason: 'insufficient_scope', data: { scope: 'tool:echo__add' } });
    expect((error as Error).message).toBe('This token does not reach "echo__add"; it needs scope "tool:echo__add".');
    expect(next.calls).toBe(0);
  });

  it('lets a narrowed token reach its own server and tool', async () => {
    for (const scopes of [
      ['mcp', 'server:echo'],
      ['mcp', 'tool:echo__add'],
    ]) {
      const next = fakeNext();
      await stage.run(fakeCall({ principal: { scopes } }), next);
      expect(next.calls).toBe(1);
    }
  });

  it('refuses arguments outside the token’s authorization details', async () => {
    const details = [{ type: 'gatehouse_tool_call', server: 'echo', tool: 'add', arguments: { a: { const: 1 } } }];
    const allowed = fakeNext();
    await stage.run(fakeCall({ principal: { authorizationDetails: details } }), allowed);
    expect(allowed.calls).toBe(1);
    const refused = fakeNext();
    await expect(stage.run(fakeCall({ principal: { authorizationDetails: details }, op: { args: { a: 2, b: 2 } } }), refused)).rejects.toMatchObject({
      reason: 'authorization_details',
    });
    expect(refused.calls).toBe(0);
  });

  it('does not look at list requests (their items are filtered one by one)', async () => {
    const next = fakeNext();
    await stage.run(
      fakeCall({ principal: { scopes: ['mcp', 'server:other'] }, op: { method: 'tools/list', action: 'list', kind: 'server', server: '*' } }),
      next,
    );
    expect(next.calls).toBe(1);
  });
});
