import { z } from 'zod';
import { PostgresTlsFields } from './postgres-tls-schema.js';
import { checkLiteralUrl, WHOLE_VARIABLE } from './secret-url.js';

export const STORAGE_DEFAULTS = { postgres: { poolSize: 10 } } as const;

/** URL query parameters that would override the TLS keys (libpq's names, which `pg` honours). */
const TLS_URL_PARAMS = ['ssl', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslcrl', 'sslpassword'];

/**
 * Where the PostgreSQL URL comes from. Checked at load (shape only: the value itself is read
 * when storage opens, so a `${VAR}` or file never lands in a parsed config object).
 */
function urlProblem(url: string): string | undefined {
  if (url.startsWith('vault:')) {
    return 'vault:NAME cannot hold the storage URL: the vault is kept in the storage this URL opens, so it cannot be read before the URL is known. Use ${VAR} (an environment variable) or file:PATH (a file readable only by the gateway)';
  }
  if (url.startsWith('file:')) return url.length > 'file:'.length ? undefined : 'file: needs a path (file:/etc/gatehouse/database-url)';
  if (url.includes('${'))
    return WHOLE_VARIABLE.test(url) ? undefined : 'a ${VAR} reference must be the whole value (the variable holds the full postgres:// URL)';
  const literal = checkLiteralUrl(url, {
    protocols: ['postgres:', 'postgresql:'],
    notUrl: 'not a URL: use postgres://user@host:port/database, ${VAR} or file:PATH',
    wrongScheme: 'must be a postgres:// or postgresql:// URL, ${VAR} or file:PATH',
    password: 'holds a password in the configuration file: put the URL in ${VAR} or file:PATH instead',
  });
  if ('problem' in literal) return literal.problem;
  const tls = [...literal.parsed.searchParams.keys()].find((key) => TLS_URL_PARAMS.includes(key.toLowerCase()));
  if (tls) return `sets "${tls}" in the URL: configure TLS with storage.postgres.ssl and sslRootCert`;
  return undefined;
}

export const StoragePostgresSchema = z
  .strictObject({
    /**
     * `${VAR}` (the whole value), `file:PATH` (the file holds the URL; relative to the config
     * file), or a literal postgres:// URL without a password. Not `vault:NAME`: the vault lives
     * in this database.
     */
    url: z.string().min(1),
    ...PostgresTlsFields,
    /** Connections this node keeps to the database (plus one that listens for changes). */
    poolSize: z.number().int().min(2).max(100).default(STORAGE_DEFAULTS.postgres.poolSize),
  })
  .superRefine((pg, ctx) => {
    const problem = urlProblem(pg.url);
    if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
  });

/** Where Gatehouse keeps its state: embedded SQLite in the data dir unless `postgres` is set. */
export const StorageSchema = z.strictObject({
  /** Shared PostgreSQL for several gateway nodes (all storage ports). */
  postgres: StoragePostgresSchema.optional(),
});

export type StorageConfig = z.infer<typeof StorageSchema>;
export type StoragePostgresConfig = z.infer<typeof StoragePostgresSchema>;
