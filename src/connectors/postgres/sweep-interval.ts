import { type Config, isPostgresServer } from '../../config/index.js';

/** The janitor's default period when no PostgreSQL server asks for another. */
const DEFAULT_SWEEP_MS = 60_000;

/**
 * How often the lease janitor runs: the shortest `lease.sweepInterval` of the configured
 * PostgreSQL servers (one janitor serves every connector), else a minute.
 */
export function leaseSweepInterval(config: Pick<Config, 'servers'>): number {
  let shortest = Number.POSITIVE_INFINITY;
  for (const server of Object.values(config.servers)) {
    if (isPostgresServer(server)) shortest = Math.min(shortest, server.postgres.lease.sweepInterval);
  }
  return Number.isFinite(shortest) ? shortest : DEFAULT_SWEEP_MS;
}
