import { describe, expect, it } from 'vitest';
import { checkRequestHeaders, decodeHeaderValue } from './request-headers.js';

const V = '2026-07-28';
const headersOf =
  (h: Record<string, string>) =>
  (name: string): string | undefined =>
    h[name];
const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_weather', arguments: {} } };

describe('decodeHeaderValue', () => {
  it('passes plain visible ASCII through and decodes the base64 sentinel as UTF-8', () => {
    expect(decodeHeaderValue('get_weather')).toBe('get_weather');
    expect(decodeHeaderValue(`=?base64?${Buffer.from('Hello, 世界').toString('base64')}?=`)).toBe('Hello, 世界');
    expect(decodeHeaderValue('=?base64??=')).toBe('');
  });
  it('refuses control characters, non-ASCII, malformed or non-UTF-8 base64 and oversized values', () => {
    for (const bad of [
      'a\rb',
      'a\nb',
      'é',
      '=?base64?abc?=',
      '=?base64?####?=',
      '=?base64?QUJD',
      `=?base64?${Buffer.from([0xff, 0xfe]).toString('base64')}?=`,
      'x'.repeat(8193),
    ]) {
      expect(decodeHeaderValue(bad), JSON.stringify(bad).slice(0, 40)).toBeUndefined();
    }
  });
});

describe('checkRequestHeaders', () => {
  const good = { 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'get_weather' };
  it('accepts headers that mirror the body', () => {
    expect(checkRequestHeaders(headersOf(good), call, V)).toBeUndefined();
    expect(
      checkRequestHeaders(headersOf({ 'mcp-protocol-version': V, 'mcp-method': 'tools/list' }), { jsonrpc: '2.0', id: 2, method: 'tools/list' }, V),
    ).toBeUndefined();
    const read = { jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'file:///a b' } };
    const encoded = `=?base64?${Buffer.from('file:///a b').toString('base64')}?=`;
    expect(checkRequestHeaders(headersOf({ 'mcp-protocol-version': V, 'mcp-method': 'resources/read', 'mcp-name': encoded }), read, V)).toBeUndefined();
  });
  it('refuses every missing or contradicting header with -32020 and a message naming it', () => {
    const cases: [Record<string, string>, unknown, RegExp][] = [
      [{ ...good, 'mcp-protocol-version': '2025-11-25' }, V, /MCP-Protocol-Version header does not match/],
      [{ 'mcp-method': 'tools/call', 'mcp-name': 'get_weather' }, V, /MCP-Protocol-Version header is required/],
      [good, undefined, /_meta protocol version is missing/],
      [{ ...good, 'mcp-method': 'tools/list' }, V, /Mcp-Method header does not match/],
      [{ 'mcp-protocol-version': V, 'mcp-name': 'get_weather' }, V, /Mcp-Method header is required/],
      [{ 'mcp-protocol-version': V, 'mcp-method': 'tools/call' }, V, /Mcp-Name header is required/],
      [{ ...good, 'mcp-name': 'delete_all' }, V, /Mcp-Name header does not match/],
      [{ ...good, 'mcp-name': '=?base64?!!?=' }, V, /Mcp-Name header value is malformed/],
    ];
    for (const [headers, version, message] of cases) {
      const problem = checkRequestHeaders(headersOf(headers), call, version);
      expect(problem?.status).toBe(400);
      expect(problem?.code).toBe(-32020);
      expect(problem?.gatehouseCode).toBe('mcp.header_mismatch');
      expect(problem?.message).toMatch(message);
    }
  });
  it('does not require Mcp-Method or Mcp-Name on a notification, but refuses ones that contradict it', () => {
    const note = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } };
    expect(checkRequestHeaders(headersOf({ 'mcp-protocol-version': V }), note, V)).toBeUndefined();
    expect(checkRequestHeaders(headersOf({ 'mcp-protocol-version': V, 'mcp-method': 'tools/call' }), note, V)?.code).toBe(-32020);
  });

  it('refuses an Mcp-Name on a method that names nothing', () => {
    const list = { jsonrpc: '2.0', id: 4, method: 'tools/list' };
    const problem = checkRequestHeaders(headersOf({ 'mcp-protocol-version': V, 'mcp-method': 'tools/list', 'mcp-name': 'delete_all' }), list, V);
    expect(problem?.code).toBe(-32020);
    expect(problem?.message).toMatch(/Mcp-Name header is not part of tools\/list/);
  });

  it('refuses a named method whose body has no string target', () => {
    const problem = checkRequestHeaders(headersOf(good), { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 7 } }, V);
    expect(problem?.code).toBe(-32020);
  });
});
