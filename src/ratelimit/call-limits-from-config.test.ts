import { describe, expect, it } from 'vitest';
import { type LoadedConfig, validateConfig } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { CallLimits } from './call-limits.js';
import { callLimitsFromConfig } from './call-limits-from-config.js';
import { RedisRateLimitStore } from './redis-store.js';
import { MemoryRateLimitStore } from './store.js';

function rateLimits(overrides: Record<string, unknown> = {}): Pick<LoadedConfig, 'rateLimits'> {
  const rateLimits = { tool: { burst: '3/s' }, ...overrides };
  return validateConfig({ servers: { db: { command: 'x' } }, rateLimits }, 'test', '/tmp', { env: {} });
}
const log = createLogger({ level: 'silent' });
const vault = {
  resolve: async () => {
    throw new Error('vault must not be read');
  },
};

describe('callLimitsFromConfig', () => {
  it("uses the storage's shared counters by default", async () => {
    const shared = new MemoryRateLimitStore();
    const { store, callLimits } = await callLimitsFromConfig(rateLimits(), { shared, vault, env: {}, log });
    expect(store).toBe(shared);
    expect(callLimits).toBeInstanceOf(CallLimits);
  });

  it('prefers a store the caller gives over Redis and the shared counters', async () => {
    const shared = new MemoryRateLimitStore();
    const given = new MemoryRateLimitStore();
    const config = rateLimits({ redis: { url: 'redis://127.0.0.1:1/0' } });
    const { store } = await callLimitsFromConfig(config, { shared, given, vault, env: {}, log });
    expect(store).toBe(given);
  });

  it('opens the Redis store only when limits are on, and never reads the vault for a literal URL', async () => {
    const shared = new MemoryRateLimitStore();
    const redis = { url: 'redis://127.0.0.1:1/0' };
    const on = await callLimitsFromConfig(rateLimits({ redis }), { shared, vault, env: {}, log });
    expect(on.store).toBeInstanceOf(RedisRateLimitStore);
    await on.store.close?.();
    const off = await callLimitsFromConfig(rateLimits({ enabled: false, redis }), { shared, vault, env: {}, log });
    expect(off).toEqual({ store: shared, callLimits: undefined });
  });

  it('lets metrics wrap the limits when they are configured', async () => {
    const shared = new MemoryRateLimitStore();
    const wrappedWith: unknown[] = [];
    const metered = (config: LoadedConfig['rateLimits'], store: MemoryRateLimitStore) => {
      wrappedWith.push(store);
      return new CallLimits(config, store);
    };
    const { callLimits } = await callLimitsFromConfig(rateLimits(), { shared, vault, env: {}, log, metered: metered as never });
    expect(callLimits).toBeInstanceOf(CallLimits);
    expect(wrappedWith).toEqual([shared]);
  });
});
