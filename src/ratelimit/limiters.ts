import { createRequire } from 'node:module';
import type * as Flexible from 'rate-limiter-flexible';

// rate-limiter-flexible's index requires every store it ships (Redis, Valkey, Mongo, MySQL,
// DynamoDB, Prisma, Drizzle, etcd, memcached…: 36 modules, ~0.8 MB of heap) whichever one is
// used. Each limiter is required from its own file instead (the package has no export map, and
// these files are what its index re-exports), so a gateway loads the in-memory limiter alone.
const require = createRequire(import.meta.url);

export const RateLimiterMemory = require('rate-limiter-flexible/lib/RateLimiterMemory.js') as typeof Flexible.RateLimiterMemory;
/** What a limiter rejects with when a key is over its limit (the class every limiter file uses). */
export const RateLimiterRes = require('rate-limiter-flexible/lib/RateLimiterRes.js') as typeof Flexible.RateLimiterRes;

/** The PostgreSQL limiter, required when a cluster store is built. */
export function rateLimiterPostgres(): typeof Flexible.RateLimiterPostgres {
  return require('rate-limiter-flexible/lib/RateLimiterPostgres.js') as typeof Flexible.RateLimiterPostgres;
}
