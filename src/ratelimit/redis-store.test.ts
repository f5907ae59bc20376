import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../errors/index.js';
import { silentLogger } from '../log/index.js';
import { freePort } from '../util/free-port.js';
import { CallLimits } from './call-limits.js';
import { RedisRateLimitStore } from './redis-store.js';

describe('RedisRateLimitStore without a reachable Redis', () => {
  it('fails closed at once: store.unavailable, not a pass and not a rate limit', async () => {
    const port = await freePort();
    const store = new RedisRateLimitStore({ url: `redis://:pw-canary@127.0.0.1:${port}/0`, commandTimeoutMs: 200, connectTimeoutMs: 200, log: silentLogger() });
    try {
      const counter = store.counter('tool.burst', 5, 60_000);
      const started = Date.now();
      const error = await counter.take('alice').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ code: 'store.unavailable', status: 503 });
      expect((error as Error).message).not.toContain('pw-canary');
      expect(Date.now() - started).toBeLessThan(2000);

      // Through CallLimits the whole request is refused with the same error.
      const limits = new CallLimits({ user: { burst: { points: 10, windowMs: 1000 } }, tool: {}, client: {}, tools: {} }, store);
      await expect(limits.takeRequest({ sub: 'alice', clientId: undefined })).rejects.toMatchObject({ code: 'store.unavailable' });
    } finally {
      await store.close();
    }
  });
});
