import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../config/index.js';

const validateConfig = (input: unknown) => ConfigSchema.parse(input);
import { leaseSweepInterval } from './sweep-interval.js';

const pg = (sweepInterval?: string) => ({
  postgres: {
    database: 'crm',
    admin: { user: 'admin', password: 'vault:pg-admin' },
    roles: { support: 'crm_support' },
    ...(sweepInterval ? { lease: { sweepInterval } } : {}),
  },
});

describe('leaseSweepInterval', () => {
  it('is a minute without PostgreSQL servers, or when none sets it', () => {
    expect(leaseSweepInterval(validateConfig({}))).toBe(60_000);
    expect(leaseSweepInterval(validateConfig({ servers: { crm: pg() } }))).toBe(60_000);
  });
  it('is the shortest of the configured servers', () => {
    expect(leaseSweepInterval(validateConfig({ servers: { a: pg('30s'), b: pg('5s'), c: pg() } }))).toBe(5000);
  });
  it('refuses intervals below a second or above an hour', () => {
    expect(() => validateConfig({ servers: { crm: pg('500ms') } })).toThrow(/sweepInterval/);
    expect(() => validateConfig({ servers: { crm: pg('2h') } })).toThrow(/sweepInterval/);
  });
});
