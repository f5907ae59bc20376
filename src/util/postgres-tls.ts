import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PoolConfig } from 'pg';
import { isLoopbackHost } from './loopback-host.js';

/** The TLS modes a PostgreSQL connection can be configured with (storage and the PostgreSQL connector alike). */
export type PostgresTlsMode = 'disable' | 'require' | 'verify-full';

/**
 * The pg `ssl` option for a host and TLS mode. Without a mode, loopback hosts get no TLS and every
 * other host verified TLS (certificate and host name), so a remote database is never reached in clear.
 * `sslRootCert` is resolved against `baseDir` (the configuration file's directory).
 */
export function postgresSsl(host: string, mode: PostgresTlsMode | undefined, sslRootCert: string | undefined, baseDir: string): PoolConfig['ssl'] {
  const effective = mode ?? (isLoopbackHost(host) ? 'disable' : 'verify-full');
  if (effective === 'disable') return false;
  if (effective === 'require') return { rejectUnauthorized: false };
  return {
    rejectUnauthorized: true,
    servername: host,
    ...(sslRootCert ? { ca: readFileSync(path.resolve(baseDir, sslRootCert), 'utf8') } : {}),
  };
}
