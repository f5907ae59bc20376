import { z } from 'zod';
import { checkLiteralUrl, WHOLE_VARIABLE } from './secret-url.js';
import { DurationSchema } from './units.js';

export const RATELIMIT_REDIS_DEFAULTS = { commandTimeout: '500ms', connectTimeout: '2s' } as const;

/** One reference and nothing around it: the URL may carry the Redis password. */
const WHOLE_VAULT = /^vault:[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function urlProblem(url: string): string | undefined {
  if (url.startsWith('vault:'))
    return WHOLE_VAULT.test(url) ? undefined : 'a vault:NAME reference must be the whole value (the entry holds the full redis:// URL)';
  if (url.includes('${')) return WHOLE_VARIABLE.test(url) ? undefined : 'a ${VAR} reference must be the whole value (the variable holds the full redis:// URL)';
  const literal = checkLiteralUrl(url, {
    protocols: ['redis:', 'rediss:'],
    notUrl: 'not a URL: use vault:NAME, ${VAR} or redis://host:port/db',
    wrongScheme: 'must be a redis:// or rediss:// (TLS) URL, vault:NAME or ${VAR}',
    password: 'holds a password in the configuration file: put the URL in the vault (vault:NAME) or in ${VAR}',
  });
  return 'problem' in literal ? literal.problem : undefined;
}

/**
 * Rate-limit counters in Redis instead of the storage (for request rates a database upsert per
 * limit per call cannot carry). Every node of a cluster points at the same Redis.
 */
export const RateLimitRedisSchema = z
  .strictObject({
    /** `vault:NAME` or `${VAR}` (the whole value, holding redis://user:password@host:port/db or rediss://…), or a redis:// URL without a password. */
    url: z.string().min(1),
    /** A counter update that takes longer fails the request closed (503), rather than holding it. */
    commandTimeout: DurationSchema.prefault(RATELIMIT_REDIS_DEFAULTS.commandTimeout),
    /** How long one connection attempt may take; reconnects keep going in the background. */
    connectTimeout: DurationSchema.prefault(RATELIMIT_REDIS_DEFAULTS.connectTimeout),
  })
  .superRefine((redis, ctx) => {
    const problem = urlProblem(redis.url);
    if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
    if (redis.commandTimeout < 10 || redis.commandTimeout > 60_000)
      ctx.addIssue({ code: 'custom', path: ['commandTimeout'], message: 'must be between 10ms and 60s' });
    if (redis.connectTimeout < 100 || redis.connectTimeout > 60_000)
      ctx.addIssue({ code: 'custom', path: ['connectTimeout'], message: 'must be between 100ms and 60s' });
  });

export type RateLimitRedisConfig = z.infer<typeof RateLimitRedisSchema>;
