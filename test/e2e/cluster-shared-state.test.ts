import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterState } from '../../src/storage/postgres/migrations/0100-cluster-state.js';
import { PostgresRateLimitStore } from '../../src/cluster/postgres-rate-limit-store.js';
import { PostgresReplayCache } from '../../src/cluster/postgres-replay-cache.js';
import { validateConfig } from '../../src/config/index.js';
import { RateLimitedError, storeUnavailableFrom } from '../../src/errors/index.js';
import { postgresExclusive } from '../../src/cluster/exclusive.js';
import { CallLimits } from '../../src/ratelimit/index.js';
import { dpopReplayKey } from '../../src/tokens/index.js';

/**
 * The state every node of a cluster must share, on a real PostgreSQL: two pools stand for two
 * nodes (separate connections, separate processes' view), each with its own objects.
 */
describe('cluster shared state on PostgreSQL', () => {
  const info = inject('postgres');
  const database = `gh_cluster_state_${randomBytes(4).toString('hex')}`;
  let nodeA: pg.Pool;
  let nodeB: pg.Pool;

  beforeAll(async () => {
    const root = new pg.Client({ ...info, database: 'postgres' });
    await root.connect();
    await root.query(`CREATE DATABASE ${database}`);
    await root.end();
    nodeA = new pg.Pool({ ...info, database, max: 4 });
    nodeB = new pg.Pool({ ...info, database, max: 4 });
    // The database is dropped WITH (FORCE) at the end: idle connections being cut is expected.
    for (const pool of [nodeA, nodeB]) pool.on('error', () => undefined);
    await nodeA.query(clusterState.sql);
  });
  afterAll(async () => {
    await nodeA?.end();
    await nodeB?.end();
    const root = new pg.Client({ ...info, database: 'postgres' });
    await root.connect();
    await root.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await root.end();
  });

  describe('DPoP replay cache', () => {
    it('a proof used on one node is refused on the other; a different key with the same jti is not', async () => {
      const a = new PostgresReplayCache(nodeA);
      const b = new PostgresReplayCache(nodeB);
      const until = Date.now() + 60_000;
      const key = dpopReplayKey('thumbprint-1', 'jti-1');
      expect(await a.firstUse(key, until)).toBe(true);
      expect(await b.firstUse(key, until)).toBe(false);
      expect(await a.firstUse(key, until)).toBe(false);
      // The same jti under another client key is another proof.
      expect(await b.firstUse(dpopReplayKey('thumbprint-2', 'jti-1'), until)).toBe(true);
      // Keys are fixed-size hashes: a huge client-chosen jti stores 43 characters.
      const huge = dpopReplayKey('t', 'x'.repeat(100_000));
      expect(huge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await a.firstUse(huge, until)).toBe(true);
    });

    it('exactly one of many concurrent claims of one key wins, across both nodes', async () => {
      const caches = [new PostgresReplayCache(nodeA), new PostgresReplayCache(nodeB)];
      const key = dpopReplayKey('race', randomBytes(8).toString('hex'));
      const until = Date.now() + 60_000;
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (caches[i % 2] as PostgresReplayCache).firstUse(key, until)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const rows = await nodeA.query('SELECT count(*)::int AS n FROM replay_cache WHERE key = $1', [key]);
      expect(rows.rows[0].n).toBe(1);
    });

    it('an expired use no longer blocks the key, and expired rows are pruned', async () => {
      let now = Date.now();
      const cache = new PostgresReplayCache(nodeA, () => now);
      const key = dpopReplayKey('expiry', 'j');
      expect(await cache.firstUse(key, now + 1000)).toBe(true);
      expect(await cache.firstUse(key, now + 1000)).toBe(false);
      now += 2000;
      expect(await cache.firstUse(key, now + 1000)).toBe(true);
    });

    it('fails closed: a store that cannot answer rejects rather than accepting the proof', async () => {
      const broken = new pg.Pool({ ...info, database, port: 1, max: 1, connectionTimeoutMillis: 500 });
      broken.on('error', () => undefined);
      await expect(new PostgresReplayCache(broken).firstUse('k', Date.now() + 1000)).rejects.toThrow();
      await broken.end();
    });
  });

  describe('rate-limit counters', () => {
    const limits = (pool: pg.Pool, rateLimits: Record<string, unknown>) =>
      new CallLimits(
        validateConfig({ servers: { db: { command: 'x' } }, rateLimits }, 'test', '/tmp', { env: {} }).rateLimits,
        new PostgresRateLimitStore(pool),
      );

    it('one limit across nodes: the calls of a user spread over two nodes count against one counter', async () => {
      const rateLimits = { tool: { burst: '4/m' }, user: {}, client: {} };
      const a = limits(nodeA, rateLimits);
      const b = limits(nodeB, rateLimits);
      const key = { sub: `alice-${randomBytes(3).toString('hex')}`, clientId: 'c', target: 'db__query' };
      await a.take(key);
      await b.take(key);
      await a.take(key);
      await b.take(key);
      const error = await b.take(key).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).message).toMatch(/^Rate limit exceeded: at most 4 calls per minute to "db__query" per user\. Retry after \d+ ms\.$/);
      expect((error as RateLimitedError).data?.limit).toBe('tool.burst');
      await expect(a.take(key)).rejects.toBeInstanceOf(RateLimitedError);
      // Another user is not affected.
      await a.take({ ...key, sub: `bob-${randomBytes(3).toString('hex')}` });
    });

    it('counts concurrent takes exactly: 20 at once against a limit of 10 admit exactly 10', async () => {
      const rateLimits = { user: { burst: '10/m' }, tool: {}, client: {} };
      const nodes = [limits(nodeA, rateLimits), limits(nodeB, rateLimits)];
      const sub = `carol-${randomBytes(3).toString('hex')}`;
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (nodes[i % 2] as CallLimits).takeRequest({ sub, clientId: 'c' })));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(RateLimitedError);
    });

    it('stores opaque fixed-size keys: a 10 000-character user name neither fails nor lands in the table', async () => {
      const a = limits(nodeA, { user: { burst: '2/m' }, tool: {}, client: {} });
      const sub = `long-${'é'.repeat(10_000)}`;
      await a.takeRequest({ sub, clientId: 'c' });
      const rows = await nodeA.query<{ key: string }>('SELECT key FROM rate_limits');
      for (const row of rows.rows) {
        expect(row.key.length).toBeLessThan(80);
        expect(row.key).not.toContain('long-');
        expect(row.key).not.toContain('alice');
      }
    });

    it('fails closed: a store error is not a pass and not a rate-limit refusal', async () => {
      const broken = new pg.Pool({ ...info, database, port: 1, max: 1, connectionTimeoutMillis: 500 });
      broken.on('error', () => undefined);
      const error = await limits(broken, { user: { burst: '5/m' }, tool: {}, client: {} })
        .takeRequest({ sub: 'dave', clientId: 'c' })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(RateLimitedError);
      // Answered as the store being unavailable (503, retry), not as a bug or a refusal.
      expect(storeUnavailableFrom(error)).toMatchObject({ code: 'store.unavailable', status: 503 });
      await broken.end();
    });
  });

  describe('cluster-wide exclusive sections (the lease janitor)', () => {
    it('runs on one node at a time: the other skips without running, and gets it once released', async () => {
      const a = postgresExclusive(nodeA);
      const b = postgresExclusive(nodeB);
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let ranOnB = 0;
      const onA = a('lease-janitor', async () => {
        await held;
        return 'a';
      });
      // Give A time to take the lock.
      await new Promise((r) => setTimeout(r, 200));
      expect(await b('lease-janitor', async () => ++ranOnB)).toBeUndefined();
      expect(ranOnB).toBe(0);
      // Another name is another lock.
      expect(await b('other-section', async () => 'free')).toBe('free');
      release();
      expect(await onA).toBe('a');
      expect(await b('lease-janitor', async () => ++ranOnB)).toBe(1);
      // A section that throws releases the lock as well.
      await expect(a('lease-janitor', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await b('lease-janitor', async () => 'after')).toBe('after');
      // Of 8 concurrent attempts across both nodes, exactly one runs while they overlap.
      let inside = 0;
      let most = 0;
      const runs = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : b)('lease-janitor', async () => {
            most = Math.max(most, ++inside);
            await new Promise((r) => setTimeout(r, 150));
            inside--;
            return i;
          }),
        ),
      );
      expect(most).toBe(1);
      expect(runs.filter((r) => r !== undefined).length).toBeGreaterThanOrEqual(1);
    });
  });
});
