import { describe, expect, it } from 'vitest';
import type { Principal } from '../../tokens/index.js';
import { retryFieldsOf, statelessRequestContext, withoutRetryFields } from './retry-request.js';

const principal = { sub: 'alice', clientId: 'app' } as Principal;

describe('statelessRequestContext', () => {
  it('binds to the token, the method, the target and the arguments, and keeps the declared capabilities', () => {
    const call = {
      jsonrpc: '2.0' as const,
      id: 1,
      method: 'tools/call',
      params: { name: 't', arguments: { b: 2, a: 1 }, _meta: { 'io.modelcontextprotocol/clientCapabilities': { sampling: {} } } },
    };
    const context = statelessRequestContext(principal, call);
    expect(context.binding).toMatchObject({ sub: 'alice', client: 'app', method: 'tools/call', target: 't' });
    // Canonical: the order of keys does not change the hash, a value does.
    const reordered = statelessRequestContext(principal, { ...call, params: { ...call.params, arguments: { a: 1, b: 2 } } });
    const changed = statelessRequestContext(principal, { ...call, params: { ...call.params, arguments: { a: 1, b: 3 } } });
    expect(reordered.binding.argsHash).toBe(context.binding.argsHash);
    expect(changed.binding.argsHash).not.toBe(context.binding.argsHash);
    expect(context.capabilities).toEqual({ sampling: {} });
    const read = statelessRequestContext(principal, { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'file:///a' } });
    expect(read.binding.target).toBe('file:///a');
    expect(statelessRequestContext({ sub: 'bob' } as Principal, call).binding.client).toBe('');
  });
});

describe('retry fields', () => {
  it('are read from and stripped off requests only', () => {
    const retry = { jsonrpc: '2.0' as const, id: 3, method: 'tools/call', params: { name: 't', requestState: 's', inputResponses: { k: {} } } };
    expect(retryFieldsOf(retry)).toEqual({ requestState: 's', inputResponses: { k: {} } });
    expect(withoutRetryFields(retry).params).toEqual({ name: 't' });
    const plain = { jsonrpc: '2.0' as const, id: 4, method: 'tools/call', params: { name: 't' } };
    expect(retryFieldsOf(plain)).toBeUndefined();
    const note = { jsonrpc: '2.0' as const, method: 'notifications/x', params: { requestState: 'theirs' } };
    expect(retryFieldsOf(note)).toBeUndefined();
    expect(withoutRetryFields(note)).toBe(note);
  });
});
