import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterMemory, RateLimiterRes } from './limiters.js';

/** One counter family: at most `points` calls per `windowMs`, per key. */
export interface WindowCounter {
  /** Counts one call for `key`; says whether it fits, else how long until it would. */
  take(key: string): Promise<{ ok: true } | { ok: false; retryAfterMs: number }>;
}

/**
 * Where counters live. In memory for one node (the default); a store backed by Redis or
 * PostgreSQL (rate-limiter-flexible's RateLimiterRedis / RateLimiterPostgres, which share
 * RateLimiterMemory's interface) makes the limits hold across a cluster.
 */
export interface RateLimitStore {
  counter(name: string, points: number, windowMs: number): WindowCounter;
  /** Releases connections (a store with its own client, e.g. Redis); called at shutdown. */
  close?(): Promise<void>;
}

/** Wraps any rate-limiter-flexible limiter as a WindowCounter. */
export function counterFrom(limiter: RateLimiterAbstract): WindowCounter {
  return {
    async take(key) {
      try {
        await limiter.consume(key, 1);
        return { ok: true };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return { ok: false, retryAfterMs: Math.max(1, Math.ceil(rejection.msBeforeNext)) };
        throw rejection; // a store error, not a limit
      }
    },
  };
}

/** rate-limiter-flexible's in-memory limiter: one process, fixed windows per key. */
export class MemoryRateLimitStore implements RateLimitStore {
  counter(name: string, points: number, windowMs: number): WindowCounter {
    return counterFrom(new RateLimiterMemory({ keyPrefix: name, points, duration: windowMs / 1000 }));
  }
}
