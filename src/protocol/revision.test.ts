import { describe, expect, it } from 'vitest';
import { isModernRequest, withoutReservedMeta } from './revision.js';

const LEGACY = ['2025-11-25', '2025-06-18', '2025-03-26'];

describe('isModernRequest', () => {
  it('is modern when the body says so, for server/discover, or for a modern header', () => {
    expect(isModernRequest({ method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } }, undefined, LEGACY)).toBe(
      true,
    );
    expect(isModernRequest({ method: 'server/discover' }, undefined, LEGACY)).toBe(true);
    expect(isModernRequest({ method: 'tools/list' }, '2026-07-28', LEGACY)).toBe(true);
    expect(isModernRequest({ method: 'tools/list' }, '1900-01-01', LEGACY)).toBe(true);
  });
  it('is the session era otherwise', () => {
    expect(isModernRequest({ method: 'initialize', params: { protocolVersion: '2025-11-25' } }, undefined, LEGACY)).toBe(false);
    expect(isModernRequest({ method: 'tools/list' }, '2025-06-18', LEGACY)).toBe(false);
    expect(isModernRequest({ method: 'tools/list', params: { _meta: 'x' } }, undefined, LEGACY)).toBe(false);
  });
});

describe('withoutReservedMeta', () => {
  it('drops only the protocol keys and keeps the rest of the message', () => {
    const message = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 't', _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', progressToken: 5, 'vendor/x': 1 } },
    };
    expect(withoutReservedMeta(message)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 't', _meta: { progressToken: 5, 'vendor/x': 1 } },
    });
    expect(withoutReservedMeta({ ...message, params: { name: 't', _meta: { 'io.modelcontextprotocol/clientInfo': {} } } }).params).toEqual({ name: 't' });
  });
});
