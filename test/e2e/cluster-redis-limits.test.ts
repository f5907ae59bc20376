// Rate-limit counters in a real Redis (Debian's redis-server) shared by two gateway nodes:
// the limit holds across both, and while Redis is down every request is refused with 503
// `store.unavailable` (never let through uncounted, never reaching the upstream) until Redis
// is back, without a restart of the nodes.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Cluster, startCluster, statelessToolCall } from '../helpers/cluster.js';
import { NODE, ROOT, sleep, tempDir } from '../helpers/e2e.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

const REDIS_URL_ENV = 'GH_TEST_RATELIMIT_REDIS_URL';
const RECORDING_SERVER = path.join(ROOT, 'test/fixtures/recording-server.mjs');
const LIMIT = 6;

interface Answer {
  status: number;
  retryAfter: string | null;
  result?: { content?: { text?: string }[]; isError?: boolean };
  error?: { code: number; message: string; data?: { code?: string; limit?: string; retryAfterMs?: number } };
}

async function call(url: string, token: string, text: string): Promise<Answer> {
  const { status, headers, message } = await statelessToolCall(url, token, 'echo', { text });
  return { status, retryAfter: headers.get('retry-after'), ...message };
}

describe('rate-limit counters in Redis shared by two nodes', () => {
  let redis: RedisServer;
  let cluster: Cluster;
  let inspect: Redis;
  const recordDir = tempDir('gh-redis-limits-');
  const recordFile = path.join(recordDir, 'calls.jsonl');
  const upstreamTexts = () =>
    existsSync(recordFile)
      ? readFileSync(recordFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as { arguments?: { text?: string } }).arguments?.text)
      : [];

  beforeAll(async () => {
    redis = await startRedis();
    process.env[REDIS_URL_ENV] = redis.url;
    inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    inspect.on('error', () => undefined);
    cluster = await startCluster(
      inject('postgres'),
      {
        servers: { echo: { command: NODE, args: [RECORDING_SERVER, recordFile], sandbox: { writable: [recordDir] } } },
        access: [{ allow: { users: ['loader', 'other'], servers: ['echo'] } }],
        rateLimits: {
          enabled: true,
          user: { burst: '1000/s' },
          tool: { burst: '1000/s' },
          client: { burst: '1000/s' },
          tools: { echo__echo: { burst: `${LIMIT}/m` } },
          redis: { url: `\${${REDIS_URL_ENV}}`, commandTimeout: '300ms' },
        },
      },
      { nodes: 2 },
    );
  }, 120_000);
  afterAll(async () => {
    inspect?.disconnect();
    await cluster?.stop().catch(() => undefined);
    await redis?.close();
    delete process.env[REDIS_URL_ENV];
  });

  it(`admits exactly ${LIMIT} calls per minute across both nodes; the next is refused with the rate-limit error and reaches no upstream`, async () => {
    const token = await cluster.token('loader');
    const run = `limit-${Date.now()}`;
    const answers: Answer[] = [];
    for (let i = 0; i <= LIMIT; i++) answers.push(await call(cluster.mcpUrl, token, `${run}-${i}`));
    const admitted = answers.slice(0, LIMIT);
    for (const a of admitted)
      expect({ status: a.status, text: a.result?.content?.[0]?.text, error: a.error }).toEqual({ status: 200, text: 'ran echo', error: undefined });
    const refused = answers[LIMIT] as Answer;
    expect(refused.status).toBe(200);
    expect(refused.error).toMatchObject({ code: -32013, data: { code: 'rate.limited', limit: 'tool.burst' } });
    expect(refused.error?.message).toMatch(new RegExp(`at most ${LIMIT} calls per`));
    expect(refused.error?.data?.retryAfterMs).toBeGreaterThan(0);

    // Both nodes served some of the admitted calls: the counter is shared, not per node.
    const served = new Set(
      cluster.nginx
        .upstreams()
        .filter((u) => u.request.startsWith('POST /mcp'))
        .map((u) => cluster.nodeOfUpstream(u.upstream)),
    );
    expect([...served].sort()).toEqual([0, 1]);
    // The upstream ran exactly the admitted calls.
    const reached = upstreamTexts().filter((t) => t?.startsWith(run));
    expect(reached.sort()).toEqual(admitted.map((_, i) => `${run}-${i}`).sort());

    // The counters are in Redis (not in PostgreSQL), under opaque keys: no user or tool name.
    await inspect.connect();
    const keys = await inspect.keys('gatehouse:rl:*');
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join('\n')).not.toMatch(/loader|echo/);
    expect(await cluster.sql('SELECT key FROM rate_limits')).toEqual([]);
  });

  it('refuses every request with 503 store.unavailable while Redis is down, reaching no upstream, and recovers by itself', async () => {
    const token = await cluster.token('other');
    const run = `down-${Date.now()}`;
    expect((await call(cluster.mcpUrl, token, `${run}-before`)).status).toBe(200);

    await redis.stop();
    const refusals: Answer[] = [];
    // Several requests, over both nodes.
    for (let i = 0; i < 6; i++) refusals.push(await call(cluster.mcpUrl, token, `${run}-down-${i}`));
    for (const r of refusals) {
      expect({ status: r.status, retryAfter: r.retryAfter, rpc: r.error?.code, code: r.error?.data?.code, result: r.result }).toEqual({
        status: 503,
        retryAfter: '2',
        rpc: -32014,
        code: 'store.unavailable',
        result: undefined,
      });
      // Nothing about Redis (address, password) reaches the client.
      expect(JSON.stringify(r)).not.toContain(redis.password);
      expect(JSON.stringify(r)).not.toMatch(new RegExp(`${redis.port}|Redis|ECONNREFUSED`));
    }
    expect(upstreamTexts().filter((t) => t?.startsWith(`${run}-down`))).toEqual([]);

    await redis.start();
    const deadline = Date.now() + 20_000;
    let recovered: Answer | undefined;
    for (let i = 0; Date.now() < deadline; i++) {
      recovered = await call(cluster.mcpUrl, token, `${run}-after-${i}`);
      if (recovered.status === 200 && !recovered.error) break;
      await sleep(200);
    }
    expect(recovered?.status).toBe(200);
    expect(recovered?.result?.content?.[0]?.text).toBe('ran echo');
    // Both nodes recover by themselves, not only one. Each node's Redis client reconnects on its
    // own schedule (at most every 2 s), so the second may come back a moment after the first:
    // wait, within the same deadline, for four answers in a row (round robin puts two on each).
    let inARow = 0;
    for (let i = 0; inARow < 4 && Date.now() < deadline; i++) {
      const answer = await call(cluster.mcpUrl, token, `${run}-both-${i}`);
      inARow = answer.status === 200 && !answer.error ? inARow + 1 : 0;
      if (inARow === 0) await sleep(200);
    }
    expect(inARow, 'both nodes answer again within 20 s of Redis coming back').toBe(4);
    for (const node of cluster.nodes) {
      expect(node.process?.child.exitCode).toBeNull();
      // The URL and its password were never logged.
      expect(`${node.process?.stdout}${node.process?.stderr}`).not.toContain(redis.password);
    }
    const verify = await cluster.cli(['audit', 'verify', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
