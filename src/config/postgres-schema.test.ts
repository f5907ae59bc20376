import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/index.js';
import { validateConfig } from './load.js';

const base = { database: 'crm', admin: { user: 'gatehouse_admin', password: 'vault:pg-admin' }, roles: { support: 'crm_support' } };

function issues(postgres: Record<string, unknown>): { path: string; message: string }[] {
  try {
    validateConfig({ servers: { crm: { postgres: { ...base, ...postgres } } } }, 'test', '/tmp', { env: {} });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  return [];
}

describe('servers.<name>.postgres', () => {
  it('fills the documented defaults', () => {
    const config = validateConfig({ servers: { crm: { postgres: base } } }, 'test', '/tmp', { env: {} });
    expect(config.servers.crm).toMatchObject({
      postgres: {
        host: '127.0.0.1',
        port: 5432,
        lease: { ttl: 300_000, poolSize: 2 },
        query: { statementTimeout: 5000, maxRows: 500, maxBytes: 262_144, denyColumns: {}, allowFunctions: [] },
        statements: {},
      },
    });
  });

  it('refuses leases over 60 minutes, timeouts that do not fit a lease, and unmapped roles', () => {
    expect(issues({ lease: { ttl: '61m' } })).toEqual([
      { path: 'servers.crm.postgres.lease.ttl', message: 'may not exceed 60m (just-in-time credentials live an hour at most)' },
    ]);
    expect(issues({ lease: { ttl: '10s' }, query: { statementTimeout: '10s' } })).toEqual([
      { path: 'servers.crm.postgres.query.statementTimeout', message: 'must be shorter than lease.ttl (a statement must be able to finish inside its lease)' },
    ]);
    expect(issues({ roles: {} })).toEqual([{ path: 'servers.crm.postgres.roles', message: 'map at least one group to a template role (or set defaultRole)' }]);
    expect(issues({ roles: { support: 'crm support; DROP' } })[0]?.path).toBe('servers.crm.postgres.roles.support');
  });

  it('query.allowFunctions takes schema-qualified functions defined in the database, never built-ins', () => {
    expect(issues({ query: { allowFunctions: ['public.fullname', 'crm.Score_v2'] } })).toEqual([]);
    expect(issues({ query: { allowFunctions: ['fullname'] } })).toEqual([
      { path: 'servers.crm.postgres.query.allowFunctions[0]', message: 'a schema-qualified function name (schema.function), as stored in the catalog' },
    ]);
    expect(issues({ query: { allowFunctions: ['pg_catalog.set_config'] } })).toEqual([
      {
        path: 'servers.crm.postgres.query.allowFunctions[0]',
        message: 'built-in functions are decided from the catalog and cannot be listed; name a function defined in the database',
      },
    ]);
    expect(issues({ query: { allowFunctions: ['information_schema._pg_expandarray'] } })[0]?.path).toBe('servers.crm.postgres.query.allowFunctions[0]');
    expect(issues({ query: { allowFunctions: ["public.x'); drop"] } })[0]?.path).toBe('servers.crm.postgres.query.allowFunctions[0]');
  });

  it('refuses reserved or malformed statement names and unknown keys', () => {
    const stmt = { description: 'x', sql: 'SELECT 1' };
    expect(issues({ statements: { query: stmt } })).toEqual([
      { path: 'servers.crm.postgres.statements.query', message: 'invalid name: "query" and "describe" are built-in tools' },
    ]);
    expect(issues({ statements: { a__b: stmt } })[0]?.message).toBe('invalid name: tool names must not contain "__"');
    expect(issues({ password: 'x' })[0]).toEqual({ path: 'servers.crm.postgres', message: 'Unrecognized key: "password"' });
  });

  it('names the three server shapes when none fits', () => {
    expect(() => validateConfig({ servers: { x: { prefix: 'x' } } }, 'test', '/tmp', { env: {} })).toThrow(
      'servers.x: a server needs "command" (stdio), "url" (Streamable HTTP), "postgres" (built-in PostgreSQL connector) or "http" (built-in HTTP API connector)',
    );
  });

  it('checks ${VAR} references in the connection settings', () => {
    expect(() =>
      validateConfig({ servers: { crm: { postgres: { ...base, admin: { user: 'a', password: '${PG_PW}' } } } } }, 'test', '/tmp', { env: {} }),
    ).toThrow("servers.crm.postgres.admin.password: references ${PG_PW}, which is not set in the gateway's environment");
  });
});
