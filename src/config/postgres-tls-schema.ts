import { z } from 'zod';

/**
 * TLS to a PostgreSQL server, shared by the built-in PostgreSQL connector
 * (`servers.<name>.postgres`) and the PostgreSQL storage (`storage.postgres`), so both read
 * the same keys and apply the same defaults.
 */
export const PostgresTlsFields = {
  /** TLS to the database. Default: `disable` for a loopback host, `verify-full` otherwise. */
  ssl: z.enum(['disable', 'require', 'verify-full']).optional(),
  /** CA certificate file for `verify-full` (default: the system's CAs). */
  sslRootCert: z.string().optional(),
};

export type PostgresTlsMode = 'disable' | 'require' | 'verify-full';
