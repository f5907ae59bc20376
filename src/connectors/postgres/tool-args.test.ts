import { describe, expect, it } from 'vitest';
import { QueryRefusedError } from './query-refused.js';
import { parseDescribeArgs, parseQueryArgs } from './tool-args.js';

describe('parseQueryArgs', () => {
  it('refuses NUL characters in the SQL and in string parameters', () => {
    expect(() => parseQueryArgs({ sql: 'SELECT 1\u0000; DROP TABLE t' })).toThrow(QueryRefusedError);
    try {
      parseQueryArgs({ sql: 'SELECT $1', params: ['ok', 'a\u0000b'] });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ reason: 'postgres.nul_byte', message: 'Parameter $2 contains a NUL character, which PostgreSQL cannot take.' });
    }
    expect(parseQueryArgs({ sql: 'SELECT $1', params: ['fine'] })).toEqual({ sql: 'SELECT $1', params: ['fine'] });
  });
});

describe('parseDescribeArgs', () => {
  it('refuses NUL characters in names', () => {
    expect(() => parseDescribeArgs({ table: 'tick\u0000ets' })).toThrow('"table" contains a NUL character, which PostgreSQL cannot take.');
    expect(parseDescribeArgs({ table: 'tickets' })).toEqual({ schema: null, table: 'tickets' });
  });
});
