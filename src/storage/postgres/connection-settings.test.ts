import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors/index.js';
import { heldCredentials } from '../../log/index.js';
import { resolveStorageUrl, storagePoolConfig } from './connection-settings.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gh-pg-url-'));

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return { code: (error as ConfigError).code, message: (error as Error).message };
  }
  throw new Error('expected a refusal');
}

describe('resolveStorageUrl', () => {
  it('reads ${VAR} from the environment and file:PATH relative to the config, and registers the password with the redactor', () => {
    const password = 'pg-Canary-Pass-7781';
    expect(resolveStorageUrl('${DB}', dir, { DB: ` postgres://gh:${password}@db:5432/gh \n` })).toBe(`postgres://gh:${password}@db:5432/gh`);
    expect(heldCredentials.scrubKnown(`connect ${password}`)).not.toContain(password);
    writeFileSync(path.join(dir, 'url'), 'postgresql://gh@db/gh\n');
    expect(resolveStorageUrl('file:url', dir, {})).toBe('postgresql://gh@db/gh');
    expect(resolveStorageUrl('postgres://gh@localhost/gh', dir, {})).toBe('postgres://gh@localhost/gh');
  });

  it('refuses with config.invalid and a message that never echoes the value', () => {
    const secretish = 'postgres//gh:Leaky-Secret-123@db/gh';
    const bad = refusal(() => resolveStorageUrl('${DB}', dir, { DB: secretish }));
    expect(bad).toEqual({
      code: 'config.invalid',
      message: 'storage.postgres.url: the resolved value is not a URL (expected postgres://user:password@host:port/database)',
    });
    expect(refusal(() => resolveStorageUrl('${DB}', dir, {})).message).toBe(
      "storage.postgres.url: references ${DB}, which is not set in the gateway's environment",
    );
    expect(refusal(() => resolveStorageUrl('${DB}', dir, { DB: '  ' })).message).toBe(
      "storage.postgres.url: references ${DB}, which is not set in the gateway's environment",
    );
    expect(refusal(() => resolveStorageUrl('vault:db', dir, {})).message).toMatch(/^storage\.postgres\.url: vault:NAME cannot hold the storage URL/);
    expect(refusal(() => resolveStorageUrl('${GATEHOUSE_MASTER_KEY}', dir, { GATEHOUSE_MASTER_KEY: 'x' })).message).toMatch(/the vault master key/);
    expect(refusal(() => resolveStorageUrl('file:missing', dir, {})).message).toBe(`storage.postgres.url: cannot read ${path.join(dir, 'missing')}: ENOENT`);
    writeFileSync(path.join(dir, 'empty'), '\n');
    expect(refusal(() => resolveStorageUrl('file:empty', dir, {})).message).toMatch(/is empty/);
    expect(refusal(() => resolveStorageUrl('${DB}', dir, { DB: 'https://gh:pw@db/gh' })).message).toBe(
      'storage.postgres.url: the resolved value is not a postgres:// or postgresql:// URL',
    );
    expect(refusal(() => resolveStorageUrl('${DB}', dir, { DB: 'postgres://gh:pw@db/gh?sslmode=disable' })).message).toBe(
      'storage.postgres.url: the resolved URL sets "sslmode": configure TLS with storage.postgres.ssl and sslRootCert',
    );
  });
});

describe('storagePoolConfig: TLS as for the PostgreSQL connector', () => {
  const env = { LOCAL: 'postgres://gh:pw@127.0.0.1:5432/gh', REMOTE: 'postgres://gh:pw@db.internal:5432/gh', SOCKET: 'postgres:///gh?host=/run/postgresql' };

  it('defaults to no TLS on loopback (and sockets) and verify-full elsewhere, with the pool size', () => {
    expect(storagePoolConfig({ url: '${LOCAL}', poolSize: 7 }, dir, env)).toEqual({ connectionString: env.LOCAL, ssl: false, max: 7 });
    expect(storagePoolConfig({ url: '${SOCKET}', poolSize: 2 }, dir, env).ssl).toBe(false);
    expect(storagePoolConfig({ url: '${REMOTE}', poolSize: 10 }, dir, env).ssl).toEqual({ rejectUnauthorized: true, servername: 'db.internal' });
  });

  it('honours ssl and sslRootCert', () => {
    writeFileSync(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(storagePoolConfig({ url: '${LOCAL}', poolSize: 2, ssl: 'require' }, dir, env).ssl).toEqual({ rejectUnauthorized: false });
    expect(storagePoolConfig({ url: '${REMOTE}', poolSize: 2, ssl: 'verify-full', sslRootCert: 'ca.pem' }, dir, env).ssl).toEqual({
      rejectUnauthorized: true,
      servername: 'db.internal',
      ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    });
    expect(storagePoolConfig({ url: '${REMOTE}', poolSize: 2, ssl: 'disable' }, dir, env).ssl).toBe(false);
  });
});
