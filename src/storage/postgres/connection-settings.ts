import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PoolConfig } from 'pg';
import { ConfigError } from '../../errors/index.js';
import { registerCredential } from '../../log/index.js';
import { postgresSsl } from '../../util/postgres-tls.js';
import type { StoragePostgresSettings } from '../storage-settings.js';

const WHERE = 'storage.postgres.url';

function refuse(message: string): never {
  throw new ConfigError(`${WHERE}: ${message}`, [{ path: WHERE, message }]);
}

/**
 * Reads the URL from where the configuration says it is, at the moment storage opens: an
 * environment variable (`${VAR}`) or a file (`file:PATH`). The password in it is registered
 * with the log redactor before anything can print it.
 */
export function resolveStorageUrl(configured: string, baseDir: string, env: NodeJS.ProcessEnv): string {
  let url: string;
  const variable = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(configured);
  if (configured.startsWith('vault:')) {
    refuse('vault:NAME cannot hold the storage URL: the vault is kept in the storage this URL opens. Use ${VAR} or file:PATH');
  } else if (variable) {
    const name = variable[1] as string;
    if (name === 'GATEHOUSE_MASTER_KEY') refuse('references ${GATEHOUSE_MASTER_KEY}, the vault master key');
    const value = env[name];
    if (value === undefined || value.trim() === '') refuse(`references \${${name}}, which is not set in the gateway's environment`);
    url = value.trim();
  } else if (configured.startsWith('file:')) {
    const file = path.resolve(baseDir, configured.slice('file:'.length));
    try {
      url = readFileSync(file, 'utf8').trim();
    } catch (error) {
      refuse(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (url === '') refuse(`${file} is empty (it should hold the postgres:// URL)`);
  } else {
    url = configured;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never echo the value: it may be a URL with a password that merely failed to parse.
    refuse('the resolved value is not a URL (expected postgres://user:password@host:port/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') refuse('the resolved value is not a postgres:// or postgresql:// URL');
  if (parsed.password) registerCredential(decodeURIComponent(parsed.password));
  for (const key of parsed.searchParams.keys()) {
    if (key.toLowerCase().startsWith('ssl')) refuse(`the resolved URL sets "${key}": configure TLS with storage.postgres.ssl and sslRootCert`);
  }
  return url;
}

/** The host TLS decisions are made for: the URL's host, or a `host=` parameter (a socket dir). */
function hostOf(url: URL): string {
  const param = url.searchParams.get('host');
  if (param) return param;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === '' ? 'localhost' : host;
}

/** pg pool settings for the storage: the URL, TLS as for the PostgreSQL connector, pool size. */
export function storagePoolConfig(settings: StoragePostgresSettings, baseDir: string, env: NodeJS.ProcessEnv): PoolConfig & { connectionString: string } {
  const connectionString = resolveStorageUrl(settings.url, baseDir, env);
  const host = hostOf(new URL(connectionString));
  const ssl = postgresSsl(host, settings.ssl, settings.sslRootCert, baseDir);
  return { connectionString, ssl, max: settings.poolSize };
}
