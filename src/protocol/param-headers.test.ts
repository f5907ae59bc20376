import { describe, expect, it } from 'vitest';
import { checkParamHeaders, paramHeadersOf } from './param-headers.js';

const schema = {
  type: 'object',
  properties: {
    region: { type: 'string', 'x-mcp-header': 'Region' },
    limit: { type: 'integer', 'x-mcp-header': 'Limit' },
    dry: { type: 'boolean', 'x-mcp-header': 'Dry-Run' },
    nested: { type: 'object', properties: { team: { type: 'string', 'x-mcp-header': 'Team' } } },
    query: { type: 'string' },
  },
};
const headersOf =
  (h: Record<string, string>) =>
  (name: string): string | undefined =>
    h[name];

describe('paramHeadersOf', () => {
  it('finds annotations reachable through properties, with their paths', () => {
    expect(paramHeadersOf(schema)).toEqual([
      { name: 'Region', path: ['region'] },
      { name: 'Limit', path: ['limit'] },
      { name: 'Dry-Run', path: ['dry'] },
      { name: 'Team', path: ['nested', 'team'] },
    ]);
    expect(paramHeadersOf({ type: 'object' })).toEqual([]);
  });
  it('treats a schema with a broken annotation as invalid: no token, duplicates, non-primitive types', () => {
    for (const bad of [
      { properties: { a: { type: 'string', 'x-mcp-header': 'Bad Name' } } },
      { properties: { a: { type: 'string', 'x-mcp-header': '' } } },
      { properties: { a: { type: 'string', 'x-mcp-header': 'X' }, b: { type: 'string', 'x-mcp-header': 'x' } } },
      { properties: { a: { type: 'number', 'x-mcp-header': 'N' } } },
      { properties: { a: { type: 'object', 'x-mcp-header': 'O' } } },
    ]) {
      expect(paramHeadersOf(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

describe('checkParamHeaders', () => {
  const specs = paramHeadersOf(schema) ?? [];
  const args = { region: 'us-west1', limit: 42, dry: false, nested: { team: 'Zürich' }, query: 'SELECT 1' };
  const good = {
    'mcp-param-region': 'us-west1',
    'mcp-param-limit': '42.0',
    'mcp-param-dry-run': 'false',
    'mcp-param-team': `=?base64?${Buffer.from('Zürich').toString('base64')}?=`,
  };
  it('accepts headers that mirror the arguments (integers numerically, base64 decoded)', () => {
    expect(checkParamHeaders(headersOf(good), specs, args)).toBeUndefined();
    // Absent arguments: no header expected.
    expect(checkParamHeaders(headersOf({}), specs, { query: 'x' })).toBeUndefined();
    expect(checkParamHeaders(headersOf({}), specs, { region: null })).toBeUndefined();
  });
  it('refuses missing, contradicting, malformed and unbacked headers with -32020', () => {
    const cases: [Record<string, string>, unknown, RegExp][] = [
      [{ ...good, 'mcp-param-region': 'eu-west1' }, args, /Mcp-Param-Region header does not match/],
      [{ ...good, 'mcp-param-limit': '43' }, args, /Mcp-Param-Limit header does not match/],
      [{ ...good, 'mcp-param-limit': ' ' }, args, /Mcp-Param-Limit header does not match/],
      [{ ...good, 'mcp-param-dry-run': 'False' }, args, /Mcp-Param-Dry-Run header does not match/],
      [{ ...good, 'mcp-param-team': 'Zurich' }, args, /Mcp-Param-Team header does not match/],
      [{ ...good, 'mcp-param-team': '=?base64?!!?=' }, args, /Mcp-Param-Team header value is malformed/],
      [(({ 'mcp-param-region': _r, ...rest }) => rest)(good), args, /Mcp-Param-Region header is required/],
      [{ 'mcp-param-region': 'us-west1' }, { query: 'x' }, /Mcp-Param-Region header does not match/],
    ];
    for (const [headers, body, message] of cases) {
      const problem = checkParamHeaders(headersOf(headers), specs, body);
      expect(problem?.status).toBe(400);
      expect(problem?.code).toBe(-32020);
      expect(problem?.message).toMatch(message);
    }
  });
});
