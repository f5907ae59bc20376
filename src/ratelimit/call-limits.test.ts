import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/index.js';
import { RateLimitedError } from '../errors/index.js';
import { CallLimits } from './call-limits.js';
import { MemoryRateLimitStore } from './store.js';

const limitsFrom = (rateLimits: Record<string, unknown>) =>
  new CallLimits(validateConfig({ servers: { db: { command: 'x' } }, rateLimits }, 'test', '/tmp', { env: {} }).rateLimits, new MemoryRateLimitStore());

const refusal = async (p: Promise<unknown>) => {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RateLimitedError);
  return error as RateLimitedError;
};

describe('CallLimits', () => {
  it('refuses the call past a per-user-and-tool burst, with the wait until the window resets', async () => {
    const limits = limitsFrom({ tool: { burst: '3/s' }, user: {}, client: {} });
    const key = { sub: 'alice', clientId: 'c', target: 'db__query' };
    for (let i = 0; i < 3; i++) await limits.take(key);
    const error = await refusal(limits.take(key));
    expect(error.message).toMatch(/^Rate limit exceeded: at most 3 calls per second to "db__query" per user\. Retry after \d+ ms\.$/);
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(1000);
    expect(error.data).toEqual({ reason: 'rate_limited', limit: 'tool.burst', retryAfterMs: error.retryAfterMs });
    expect(error.rpcCode).toBe(-32013);
    // Another tool and another user have their own counters.
    await limits.take({ ...key, target: 'db__describe' });
    await limits.take({ ...key, sub: 'bob' });
  });

  it('applies the user limit across tools, and the sustained limit beyond the burst', async () => {
    const limits = limitsFrom({ user: { burst: '100/s', sustained: '5/m' }, tool: {}, client: {} });
    for (let i = 0; i < 5; i++) await limits.take({ sub: 'alice', clientId: 'c', target: `db__t${i}` });
    const error = await refusal(limits.take({ sub: 'alice', clientId: 'c', target: 'db__other' }));
    expect(error.message).toContain('at most 5 calls per minute per user');
    expect(error.data?.limit).toBe('user.sustained');
    expect(error.retryAfterMs).toBeGreaterThan(50_000);
  });

  it('limits a client application across all its users', async () => {
    const limits = limitsFrom({ client: { burst: '2/s' }, user: {}, tool: {} });
    await limits.take({ sub: 'a', clientId: 'cursor', target: 'x' });
    await limits.take({ sub: 'b', clientId: 'cursor', target: 'x' });
    expect((await refusal(limits.take({ sub: 'c', clientId: 'cursor', target: 'x' }))).data?.limit).toBe('client.burst');
    await limits.take({ sub: 'c', clientId: 'claude', target: 'x' });
  });

  it('enforces daily quotas and per-tool overrides', async () => {
    const limits = limitsFrom({ user: {}, client: {}, tool: { burst: '100/s' }, tools: { db__export: { daily: 2 } } });
    const key = { sub: 'alice', clientId: 'c', target: 'db__export' };
    await limits.take(key);
    await limits.take(key);
    const error = await refusal(limits.take(key));
    expect(error.message).toContain('at most 2 calls a day to "db__export" per user');
    expect(error.retryAfterMs).toBeGreaterThan(86_000_000);
    for (let i = 0; i < 10; i++) await limits.take({ ...key, target: 'db__query' });
  });

  it('reports the longest wait when several limits are exhausted', async () => {
    const limits = limitsFrom({ user: { burst: '1/s', sustained: '1/h' }, tool: {}, client: {} });
    await limits.take({ sub: 'a', clientId: 'c', target: 'x' });
    const error = await refusal(limits.take({ sub: 'a', clientId: 'c', target: 'x' }));
    expect(error.data?.limit).toBe('user.sustained');
  });

  it('takeRequest counts every request against the user and client limits, whatever it is', async () => {
    const limits = limitsFrom({ user: { burst: '3/s' }, client: {}, tool: {} });
    await limits.takeRequest({ sub: 'alice', clientId: 'c' });
    await limits.takeTarget({ sub: 'alice', target: 'tools/list' });
    await limits.takeRequest({ sub: 'alice', clientId: 'c' });
    await limits.take({ sub: 'alice', clientId: 'c', target: 'db__query' });
    const error = await refusal(limits.takeRequest({ sub: 'alice', clientId: 'c' }));
    expect(error.data?.limit).toBe('user.burst');
    // takeTarget alone does not touch the user limit.
    await limits.takeTarget({ sub: 'alice', target: 'db__query' });
    await limits.takeRequest({ sub: 'bob', clientId: 'c' });
  });

  it('takeTarget limits one target per user (lists count per method)', async () => {
    const limits = limitsFrom({ user: {}, client: {}, tool: { burst: '2/s' } });
    await limits.takeTarget({ sub: 'alice', target: 'tools/list' });
    await limits.takeTarget({ sub: 'alice', target: 'tools/list' });
    const error = await refusal(limits.takeTarget({ sub: 'alice', target: 'tools/list' }));
    expect(error.message).toContain('to "tools/list" per user');
    await limits.takeTarget({ sub: 'alice', target: 'prompts/list' });
  });

  it('keeps counters of look-alike keys apart: no client and a client named "-", sub and target across the separator', async () => {
    const limits = limitsFrom({ client: { burst: '1/s' }, user: {}, tool: { burst: '1/s' } });
    await limits.takeRequest({ sub: 'a', clientId: undefined });
    await limits.takeRequest({ sub: 'b', clientId: '-' });
    await limits.takeTarget({ sub: 'a\nb', target: 'c' });
    await limits.takeTarget({ sub: 'a', target: 'b\nc' });
  });

  it('refuses malformed rates in config', () => {
    expect(() => limitsFrom({ user: { burst: 'lots' } })).toThrow(/"lots" is not a rate/);
    expect(() => limitsFrom({ user: { burst: '5/100ms' } })).toThrow(/window of at least 1s/);
    expect(() => limitsFrom({ tools: { nope__x: { burst: '1/s' } } })).toThrow(/qualified tool name/);
  });
});
