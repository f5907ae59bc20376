import type { RateLimitRedisConfig } from '../config/index.js';
import { secretResolver } from '../config/secret-resolver.js';
import { registerCredential, type Logger } from '../log/index.js';
import { RedisRateLimitStore } from './redis-store.js';

/** Where `rateLimits.redis.url` is, for messages and the vault's consumer record. */
const WHERE = 'rateLimits.redis.url';

/**
 * The Redis counter store when `rateLimits.redis` is set. The URL is resolved here, once, from
 * the vault (`vault:NAME`) or the environment (`${VAR}`), and registered as a credential so it
 * never reaches a log line, an audit record or a client.
 */
export async function redisRateLimitStore(
  config: RateLimitRedisConfig,
  deps: { vault: { resolve(name: string, consumer: string): Promise<string> }; env: NodeJS.ProcessEnv; log: Logger },
): Promise<RedisRateLimitStore> {
  const url = config.url.startsWith('vault:')
    ? await deps.vault.resolve(config.url.slice('vault:'.length), WHERE)
    : secretResolver(deps.env)(config.url, WHERE);
  registerCredential(url);
  // The password on its own, too: a driver message may quote it without the rest of the URL.
  const password = URL.canParse(url) ? decodeURIComponent(new URL(url).password) : '';
  if (password) registerCredential(password);
  return new RedisRateLimitStore({
    url,
    commandTimeoutMs: config.commandTimeout,
    connectTimeoutMs: config.connectTimeout,
    log: deps.log.child({ component: 'ratelimit-redis' }),
  });
}
