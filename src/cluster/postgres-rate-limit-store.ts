import { createHash } from 'node:crypto';
import type pg from 'pg';
import { counterFrom, type RateLimitStore, type WindowCounter } from '../ratelimit/index.js';
import { rateLimiterPostgres } from '../ratelimit/limiters.js';

/** The table the cluster migration creates (rate-limiter-flexible's own layout). */
export const RATE_LIMIT_TABLE = 'rate_limits';

/** Fixed-size, opaque: user names and tool names can be longer than the table's key column. */
const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

/**
 * Rate-limit counters in PostgreSQL (rate-limiter-flexible's RateLimiterPostgres), so a limit
 * holds across every node rather than per node: three nodes behind a round-robin balancer
 * must not let a user make three times the calls. Each take is one upsert on the shared row.
 * A store error is not a pass: `counterFrom` rethrows it and the call fails closed.
 */
export class PostgresRateLimitStore implements RateLimitStore {
  constructor(private readonly pool: pg.Pool) {}

  counter(name: string, points: number, windowMs: number): WindowCounter {
    // The prefix names the limit and its size: a changed limit starts fresh counters instead
    // of reading another limit's rows.
    const keyPrefix = digest(`${name}\n${points}\n${windowMs}`).slice(0, 22);
    const RateLimiterPostgres = rateLimiterPostgres();
    const limiter = new RateLimiterPostgres({
      storeClient: this.pool,
      storeType: 'pool',
      tableName: RATE_LIMIT_TABLE,
      tableCreated: true,
      clearExpiredByTimeout: true,
      keyPrefix,
      points,
      duration: windowMs / 1000,
    });
    const counter = counterFrom(limiter);
    return { take: (key) => counter.take(digest(key)) };
  }
}
