import type { PostgresMigration } from './index.js';

/**
 * The tables of state that every node of a cluster must share and that SQLite keeps nowhere
 * (one node keeps it in memory; src/cluster/ reads and writes them): the DPoP replay cache and the rate-limit counters. Applied
 * with the PostgreSQL storage migrations, under the same advisory lock.
 */
export const clusterState: PostgresMigration = {
  id: '0100-cluster-state',
  sql: `
    CREATE TABLE IF NOT EXISTS replay_cache (
      key TEXT PRIMARY KEY,
      expires_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS replay_cache_expires ON replay_cache (expires_at);
    CREATE TABLE IF NOT EXISTS rate_limits (
      key VARCHAR(255) PRIMARY KEY,
      points INTEGER NOT NULL DEFAULT 0,
      expire BIGINT
    );
  `,
};
