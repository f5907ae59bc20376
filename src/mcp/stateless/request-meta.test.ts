import { describe, expect, it } from 'vitest';
import { checkRequestMeta, requestLogLevel } from './request-meta.js';

const VERSION = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const INFO = 'io.modelcontextprotocol/clientInfo';
const request = (params: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'server/discover', params });

describe('checkRequestMeta', () => {
  it('accepts a request with version and capabilities; client info is optional', () => {
    expect(checkRequestMeta(request({ _meta: { [VERSION]: '2026-07-28', [CAPS]: {}, [INFO]: { name: 'c', version: '1' } } }))).toBeUndefined();
    expect(checkRequestMeta(request({ _meta: { [VERSION]: '2026-07-28', [CAPS]: { sampling: {} } } }))).toBeUndefined();
  });

  const invalid: [string, unknown][] = [
    ['no params', undefined],
    ['no _meta', {}],
    ['_meta not an object', { _meta: 'x' }],
    ['_meta an array', { _meta: [] }],
    ['no protocol version', { _meta: { [CAPS]: {} } }],
    ['a protocol version that is not a string', { _meta: { [VERSION]: 20260728, [CAPS]: {} } }],
    ['no client capabilities', { _meta: { [VERSION]: '2026-07-28', [INFO]: { name: 'c', version: '1' } } }],
    ['client capabilities that are not an object', { _meta: { [VERSION]: '2026-07-28', [CAPS]: ['sampling'] } }],
    ['client capabilities null', { _meta: { [VERSION]: '2026-07-28', [CAPS]: null } }],
  ];
  for (const [label, params] of invalid) {
    it(`refuses ${label}: -32602 on HTTP 400, naming what is missing`, () => {
      const problem = checkRequestMeta(params === undefined ? { jsonrpc: '2.0', id: 1, method: 'tools/list' } : request(params));
      expect(problem).toMatchObject({ status: 400, code: -32602, gatehouseCode: 'mcp.invalid_request_meta' });
      expect(problem?.message).toMatch(/^Invalid params: _meta/);
    });
  }

  it('does not judge notifications (they answer nothing)', () => {
    expect(checkRequestMeta({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } })).toBeUndefined();
  });
});

describe('requestLogLevel', () => {
  it('is the level the request asked for, and nothing when it asked for none or an unknown one', () => {
    expect(requestLogLevel(request({ _meta: { 'io.modelcontextprotocol/logLevel': 'warning' } }))).toBe('warning');
    expect(requestLogLevel(request({ _meta: {} }))).toBeUndefined();
    expect(requestLogLevel(request({ _meta: { 'io.modelcontextprotocol/logLevel': 'loud' } }))).toBeUndefined();
    expect(requestLogLevel(request({ _meta: { 'io.modelcontextprotocol/logLevel': 3 } }))).toBeUndefined();
  });
});
