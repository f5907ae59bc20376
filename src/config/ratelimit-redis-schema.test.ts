import { describe, expect, it } from 'vitest';
import { ConfigSchema } from './schema.js';
import { validateConfig } from './load.js';

const parse = (redis: unknown) => ConfigSchema.safeParse({ rateLimits: { redis } });
const problem = (redis: unknown) => {
  const result = parse(redis);
  return result.success ? undefined : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
};

describe('rateLimits.redis', () => {
  it('takes vault:NAME, ${VAR} or a redis:// URL without a password, with defaults for the timeouts', () => {
    for (const url of ['vault:redis-url', '${REDIS_URL}', 'redis://127.0.0.1:6379/0', 'rediss://cache.internal:6380', 'redis://user@h:1']) {
      const result = parse({ url });
      expect(result.success, url).toBe(true);
      if (result.success) expect(result.data.rateLimits.redis).toEqual({ url, commandTimeout: 500, connectTimeout: 2000 });
    }
    expect(ConfigSchema.parse({}).rateLimits.redis).toBeUndefined();
  });

  it.each([
    ['a password in the file', 'redis://:hunter2@127.0.0.1:6379', /holds a password/],
    ['a reference inside other text', 'redis://${PASS}@h:6379', /must be the whole value/],
    ['vault: with text after it', 'vault:redis extra', /must be the whole value/],
    ['another scheme', 'http://127.0.0.1:6379', /redis:\/\/ or rediss:\/\//],
    ['not a URL', 'localhost:6379', /redis:\/\/ or rediss:\/\/|not a URL/],
  ])('refuses %s, naming the key', (_name, url, message) => {
    const text = problem({ url });
    expect(text).toMatch(/^rateLimits\.redis\.url: /);
    expect(text).toMatch(message);
    expect(text).not.toContain('hunter2');
  });

  it('refuses timeouts out of range and unknown keys', () => {
    expect(problem({ url: '${R}', commandTimeout: '5ms' })).toMatch(/rateLimits\.redis\.commandTimeout: must be between 10ms and 60s/);
    expect(problem({ url: '${R}', connectTimeout: '2m' })).toMatch(/rateLimits\.redis\.connectTimeout: must be between 100ms and 60s/);
    expect(problem({ url: '${R}', password: 'x' })).toMatch(/rateLimits\.redis/);
  });
});

describe('ratelimit.redis (the other spelling)', () => {
  it('loads into rateLimits.redis, checked by the same rules', () => {
    const loaded = validateConfig({ ratelimit: { redis: { url: '${REDIS_URL}' } } }, 'inline', '/tmp', { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(loaded.rateLimits.redis).toEqual({ url: '${REDIS_URL}', commandTimeout: 500, connectTimeout: 2000 });
    expect('ratelimit' in loaded).toBe(false);
    const refused = ConfigSchema.safeParse({ ratelimit: { redis: { url: 'redis://:hunter2@127.0.0.1:6379' } } });
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error?.issues)).toMatch(/ratelimit.*redis.*url.*holds a password/);
    expect(JSON.stringify(refused.error?.issues)).not.toContain('hunter2');
  });

  it('refuses both spellings at once, and unknown keys under ratelimit', () => {
    const both = ConfigSchema.safeParse({ ratelimit: { redis: { url: '${A}' } }, rateLimits: { redis: { url: '${B}' } } });
    expect(both.success).toBe(false);
    expect(both.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'ratelimit.redis: set the Redis counters once: rateLimits.redis or ratelimit.redis, not both',
    ]);
    expect(ConfigSchema.safeParse({ ratelimit: { user: { limit: 5 } } }).success).toBe(false);
  });
});
