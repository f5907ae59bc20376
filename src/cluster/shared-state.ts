import { MemoryRateLimitStore, type RateLimitStore } from '../ratelimit/index.js';
import type { Storage } from '../storage/index.js';
import type { PostgresStorage } from '../storage/postgres/index.js';
import { MemoryReplayCache, type ReplayCache } from '../tokens/index.js';
import { PostgresRateLimitStore } from './postgres-rate-limit-store.js';
import { PostgresReplayCache } from './postgres-replay-cache.js';

/** State that one node may keep in memory but a cluster must share. */
export interface SharedState {
  /** Rate-limit counters: a limit is per user (or client), not per user per node. */
  rateLimits: RateLimitStore;
  /** Used DPoP proof `jti`s: a proof replayed to another node is refused there too. */
  dpopReplays: ReplayCache;
}

/**
 * Where the shared state lives for this storage: in PostgreSQL next to everything else when
 * the nodes share one (every node sees every other's counters and proofs), in this process's
 * memory on embedded SQLite, which serves exactly one gateway process.
 */
export function sharedStateFor(storage: Storage, windowSec = 60): SharedState {
  // By kind, not instanceof: the PostgreSQL storage module is loaded only when it is configured.
  if (storage.kind === 'postgres') {
    const { pool } = (storage as PostgresStorage).db;
    return { rateLimits: new PostgresRateLimitStore(pool), dpopReplays: new PostgresReplayCache(pool) };
  }
  return { rateLimits: new MemoryRateLimitStore(), dpopReplays: new MemoryReplayCache(windowSec * 1000) };
}
