import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { StoreUnavailableError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { counterFrom, type RateLimitStore, type WindowCounter } from './store.js';

/** Fixed-size, opaque keys: user and tool names never appear in Redis. */
const digest = (text: string) => createHash('sha256').update(text).digest('base64url');
/** Every key Gatehouse writes starts with this, so the counters can share a Redis with other data. */
export const REDIS_KEY_PREFIX = 'gatehouse:rl:';

export interface RedisRateLimitOptions {
  /** redis://… or rediss://… (TLS), resolved from the vault or the environment: may hold a password. */
  url: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  log: Logger;
}

/**
 * Rate-limit counters in Redis (rate-limiter-flexible's RateLimiterRedis on an ioredis client):
 * one atomic INCR-with-expiry script per limit per call, shared by every node. Fails closed:
 * while Redis cannot be reached, a counter cannot be read, so the request is refused with
 * `store.unavailable` (503) — never let through uncounted. Commands are not queued while
 * disconnected (they fail at once) and each has a deadline, so a stalled Redis refuses
 * requests quickly instead of holding them; the client reconnects by itself in the background.
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly client: Redis;
  #lastState = 'connecting';

  constructor(options: RedisRateLimitOptions) {
    this.client = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: options.connectTimeoutMs,
      // Keep trying, at most every 2 s: the counters come back as soon as Redis does.
      retryStrategy: (times) => Math.min(100 * times, 2000),
      enableReadyCheck: true,
    });
    // Without a listener ioredis reports every failed reconnect as an unhandled error. Log
    // state changes once each, never the URL (it may hold the password).
    this.client.on('error', (error: Error) => {
      if (this.#lastState === 'error') return;
      this.#lastState = 'error';
      options.log.warn({ err: error.message }, 'rate-limit Redis unreachable; requests are refused until it is back');
    });
    this.client.on('ready', () => {
      if (this.#lastState !== 'connecting') options.log.info('rate-limit Redis reachable again');
      this.#lastState = 'ready';
    });
  }

  counter(name: string, points: number, windowMs: number): WindowCounter {
    // The prefix names the limit and its size: a changed limit starts fresh counters.
    const keyPrefix = `${REDIS_KEY_PREFIX}${digest(`${name}\n${points}\n${windowMs}`).slice(0, 22)}`;
    const limiter = new RateLimiterRedis({
      storeClient: this.client,
      keyPrefix,
      points,
      // Redis expires keys in whole seconds; every configured window is at least one second.
      duration: Math.max(1, Math.round(windowMs / 1000)),
      // Refuse at once while disconnected, rather than send into a dead socket.
      rejectIfRedisNotReady: true,
    });
    const counter = counterFrom(limiter);
    return {
      take: async (key) => {
        try {
          return await counter.take(digest(key));
        } catch (error) {
          // Anything but a limit decision is the store failing: never a pass.
          throw new StoreUnavailableError({ cause: error, detail: { store: 'redis', error: (error as Error).message } });
        }
      },
    };
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
