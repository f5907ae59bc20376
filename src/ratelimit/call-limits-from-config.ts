import type { LoadedConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { CallLimits } from './call-limits.js';
import type { RateLimitStore } from './store.js';

export interface CallLimitsWiring {
  /** Where the counters live (closed at shutdown, even when limits are off). */
  store: RateLimitStore;
  /** Undefined when `rateLimits.enabled` is false: the rate-limit stage then passes every call. */
  callLimits: CallLimits | undefined;
}

/**
 * The call limits of `rateLimits:` and where their counters live: a store given by the caller
 * (tests, embedders) wins; else Redis when `rateLimits.redis` is set and limits are on; else the
 * storage's shared counters (in memory on one node, the shared store for a cluster). Metrics
 * wrap the limits when they are configured, to count refusals.
 */
export async function callLimitsFromConfig(
  config: Pick<LoadedConfig, 'rateLimits'>,
  deps: {
    shared: RateLimitStore;
    given?: RateLimitStore | undefined;
    vault: { resolve(name: string, consumer: string): Promise<string> };
    env: NodeJS.ProcessEnv;
    log: Logger;
    metered?: ((limits: LoadedConfig['rateLimits'], store: RateLimitStore) => CallLimits) | undefined;
  },
): Promise<CallLimitsWiring> {
  const { rateLimits } = config;
  const store =
    deps.given ??
    (rateLimits.redis && rateLimits.enabled
      ? // Loaded only when configured: the Redis client stays out of gateways that do not use it.
        await (await import('./from-config.js')).redisRateLimitStore(rateLimits.redis, deps)
      : deps.shared);
  if (!rateLimits.enabled) return { store, callLimits: undefined };
  return { store, callLimits: deps.metered ? deps.metered(rateLimits, store) : new CallLimits(rateLimits, store) };
}
