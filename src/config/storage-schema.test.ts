import { describe, expect, it } from 'vitest';
import { validateConfig } from './load.js';

function issues(postgres: Record<string, unknown>, env: NodeJS.ProcessEnv = { DB_URL: 'postgres://u:p@db/x' }): { path: string; message: string }[] {
  try {
    validateConfig({ storage: { postgres } }, 'test', '/tmp', { env });
    return [];
  } catch (error) {
    return (error as { issues: { path: string; message: string }[] }).issues;
  }
}

describe('storage.postgres', () => {
  it('is absent by default (embedded SQLite) and takes ${VAR}, file:PATH or a password-less URL, with TLS keys and a pool size', () => {
    expect(validateConfig({}, 'test', '/tmp', { env: {} }).storage).toEqual({});
    const config = validateConfig({ storage: { postgres: { url: '${DB_URL}', ssl: 'verify-full', sslRootCert: 'ca.pem' } } }, 'test', '/tmp', {
      env: { DB_URL: 'postgres://u:p@db/x' },
    });
    expect(config.storage.postgres).toEqual({ url: '${DB_URL}', ssl: 'verify-full', sslRootCert: 'ca.pem', poolSize: 10 });
    expect(issues({ url: 'file:/etc/gatehouse/db-url', poolSize: 4 })).toEqual([]);
    expect(issues({ url: 'postgresql://gatehouse@db.internal:5433/gatehouse' })).toEqual([]);
  });

  it('refuses vault:NAME, saying why (the vault lives in this database) and what to use instead', () => {
    expect(issues({ url: 'vault:db-url' })).toEqual([
      {
        path: 'storage.postgres.url',
        message:
          'vault:NAME cannot hold the storage URL: the vault is kept in the storage this URL opens, so it cannot be read before the URL is known. Use ${VAR} (an environment variable) or file:PATH (a file readable only by the gateway)',
      },
    ]);
  });

  it('refuses a password written into the configuration, TLS settings in the URL, and other malformed values', () => {
    const message = (url: string) => issues({ url })[0];
    expect(message('postgres://u:hunter2-secret@db/x')).toEqual({
      path: 'storage.postgres.url',
      message: 'holds a password in the configuration file: put the URL in ${VAR} or file:PATH instead',
    });
    expect(message('postgres://u@db/x?sslmode=disable')?.message).toBe('sets "sslmode" in the URL: configure TLS with storage.postgres.ssl and sslRootCert');
    expect(message('postgres://u@db/x?SSLROOTCERT=/x')?.message).toBe('sets "SSLROOTCERT" in the URL: configure TLS with storage.postgres.ssl and sslRootCert');
    expect(message('mysql://u@db/x')?.message).toBe('must be a postgres:// or postgresql:// URL, ${VAR} or file:PATH');
    expect(message('not a url')?.message).toBe('not a URL: use postgres://user@host:port/database, ${VAR} or file:PATH');
    expect(message('postgres://u:${PW}@db/x')?.message).toBe('a ${VAR} reference must be the whole value (the variable holds the full postgres:// URL)');
    expect(message('file:')?.message).toBe('file: needs a path (file:/etc/gatehouse/database-url)');
    expect(issues({ url: '${DB_URL}', poolSize: 1 })[0]?.path).toBe('storage.postgres.poolSize');
    expect(issues({ url: '${DB_URL}', ssl: 'prefer' })[0]?.path).toBe('storage.postgres.ssl');
    expect(issues({ url: '${DB_URL}', password: 'x' })[0]).toEqual({ path: 'storage.postgres', message: 'Unrecognized key: "password"' });
    // The password never appears in an error.
    expect(JSON.stringify(issues({ url: 'postgres://u:hunter2-secret@db/x' }))).not.toContain('hunter2');
  });

  it('checks the variable at load: unset is an error, the master key is refused', () => {
    expect(issues({ url: '${DB_URL}' }, {})).toEqual([
      { path: 'storage.postgres.url', message: "references ${DB_URL}, which is not set in the gateway's environment" },
    ]);
    expect(issues({ url: '${GATEHOUSE_MASTER_KEY}' }, { GATEHOUSE_MASTER_KEY: 'k' })[0]).toMatchObject({
      path: 'storage.postgres.url',
      message: expect.stringContaining('the vault master key'),
    });
  });
});
