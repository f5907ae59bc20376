import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config/index.js';
import { heldCredentials, silentLogger } from '../log/index.js';
import { freePort } from '../util/free-port.js';
import { vaultReferences } from '../vault/config-references.js';
import { redisRateLimitStore } from './from-config.js';

const redisConfig = (url: string) =>
  ConfigSchema.parse({ rateLimits: { redis: { url } } }).rateLimits.redis as NonNullable<ReturnType<typeof ConfigSchema.parse>['rateLimits']['redis']>;

describe('redisRateLimitStore', () => {
  it('reads vault:NAME from the vault for rateLimits.redis.url and registers the URL and its password as credentials', async () => {
    const port = await freePort();
    const asked: [string, string][] = [];
    const password = `pw-${port}-canary`;
    const store = await redisRateLimitStore(redisConfig('vault:ratelimit-redis'), {
      vault: {
        resolve: async (name, consumer) => {
          asked.push([name, consumer]);
          return `redis://:${password}@127.0.0.1:${port}/0`;
        },
      },
      env: {},
      log: silentLogger(),
    });
    try {
      expect(asked).toEqual([['ratelimit-redis', 'rateLimits.redis.url']]);
      expect(heldCredentials.scrub(`auth failed for ${password}`)).not.toContain(password);
    } finally {
      await store.close();
    }
  });

  it('reads ${VAR} from the environment, and says which key when the variable is missing', async () => {
    const port = await freePort();
    const store = await redisRateLimitStore(redisConfig('${RL_REDIS}'), {
      vault: { resolve: () => Promise.reject(new Error('not used')) },
      env: { RL_REDIS: `redis://127.0.0.1:${port}/0` },
      log: silentLogger(),
    });
    await store.close();
    await expect(
      redisRateLimitStore(redisConfig('${RL_REDIS}'), { vault: { resolve: () => Promise.reject(new Error('not used')) }, env: {}, log: silentLogger() }),
    ).rejects.toMatchObject({ code: 'config.invalid', message: expect.stringContaining('rateLimits.redis.url') });
  });

  it('lists a vault:NAME URL among the config’s vault references (start-up and `vault list` report it missing)', () => {
    const config = { ...ConfigSchema.parse({ rateLimits: { redis: { url: 'vault:ratelimit-redis' } } }), baseDir: '/', source: 'x' };
    expect(vaultReferences(config as never)).toEqual([{ path: 'rateLimits.redis.url', name: 'ratelimit-redis' }]);
  });
});
