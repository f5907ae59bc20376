// The cluster: calls/s through nginx (round robin) with 1, 2 and 3 gateway nodes on one
// PostgreSQL, p50/p99, and the cost of the PostgreSQL audit path against SQLite on one node
// (the same gateway, direct, no nginx). Every server — PostgreSQL, nginx, the nodes, their
// echo upstreams — and the load generator share this machine's cores, so more nodes add
// processes competing for the same CPU: read the scaling row as "what one machine does", not
// as what separate hosts would.
//
//   node bench/run.ts --only cluster
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startNginx, type Nginx } from '../test/helpers/nginx.ts';
import { startPostgresCluster, type PostgresCluster } from '../test/helpers/postgres-cluster.ts';
import { freePort } from '../src/util/free-port.ts';
import { ServerProcess } from './lib/processes.ts';
import type { RowsResult } from './lib/rows-module.ts';
import { startGatehouse } from './lib/servers.ts';
import { fmtInt, fmtMs } from './lib/table.ts';
import type { BenchContext } from './lib/types.ts';
import { runLoadWorker } from './lib/worker.ts';

const run = promisify(execFile);
const CONCURRENCY = 16;
const ARGS = { text: 'hello from the cluster benchmark' };
const RATE_LIMITS = [
  'rateLimits:',
  "  user: { burst: '1000000/s', sustained: '100000000/m' }",
  "  tool: { burst: '1000000/s', sustained: '100000000/m' }",
  "  client: { burst: '1000000/s', sustained: '100000000/m' }",
];

interface Node {
  port: number;
  config: string;
  process: ServerProcess;
}

async function startNodes(ctx: BenchContext, count: number, env: NodeJS.ProcessEnv, publicUrl: string): Promise<Node[]> {
  const dir = path.join(ctx.benchDir, 'cluster');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const echo = path.join(ctx.root, 'test', 'fixtures', 'echo-server.mjs');
  const cli = path.join(ctx.root, 'dist', 'cli', 'main.js');
  const nodes: Node[] = [];
  for (let i = 1; i <= count; i++) {
    const port = await freePort();
    const config = path.join(dir, `node${i}.yaml`);
    writeFileSync(
      config,
      [
        `listen: { host: 127.0.0.1, port: ${port} }`,
        `publicUrl: ${publicUrl}`,
        `dataDir: ./node${i}`,
        'trustedProxies: [127.0.0.1/32]',
        'storage:',
        '  postgres:',
        '    url: ${GATEHOUSE_DATABASE_URL}',
        'servers:',
        `  echo: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(echo)}] }`,
        'access:',
        '  - allow: { groups: [bench], servers: [echo] }',
        ...RATE_LIMITS,
        '',
      ].join('\n'),
    );
    const proc = ctx.track(
      new ServerProcess(`cluster-node${i}`, process.execPath, [cli, 'start', '--config', config], {
        cwd: dir,
        env,
        logPath: path.join(ctx.benchDir, `cluster-node${i}.log`),
      }),
    );
    nodes.push({ port, config, process: proc });
  }
  // Started together: they queue on the migration lock, as real nodes do.
  await Promise.all(nodes.map((n) => n.process.waitForOutput(/Gatehouse ready at (\S+)/, 90_000)));
  return nodes;
}

export async function runClusterBench(ctx: BenchContext): Promise<RowsResult> {
  const seconds = ctx.options.seconds;
  const load = (url: string, token: string, name: string, host?: string) =>
    runLoadWorker({
      target: { name, url, stateless: true, headers: { authorization: `Bearer ${token}`, ...(host ? { host } : {}) } },
      concurrency: CONCURRENCY,
      durationMs: seconds * 1000,
      warmupMs: ctx.options.warmupSeconds * 1000,
      tool: 'echo',
      args: ARGS,
    });
  let cluster: PostgresCluster | undefined;
  const proxies: Nginx[] = [];
  try {
    ctx.progress('cluster: starting PostgreSQL');
    cluster = await startPostgresCluster({ install: true, log: ctx.progress });
    const database = `gh_bench_cluster_${randomBytes(3).toString('hex')}`;
    const root = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: 'postgres' });
    await root.connect();
    await root.query(`CREATE DATABASE ${database}`);
    // The throwaway server starts without fsync (for tests); a fair comparison with SQLite,
    // which syncs every audit commit, needs PostgreSQL's durable defaults back.
    await root.query('ALTER SYSTEM SET fsync = on');
    await root.query('ALTER SYSTEM SET synchronous_commit = on');
    await root.query('ALTER SYSTEM SET full_page_writes = on');
    await root.query('SELECT pg_reload_conf()');
    await root.end();
    const nginxPort = await freePort();
    const publicUrl = `http://127.0.0.1:${nginxPort}`;
    const env = {
      ...process.env,
      GATEHOUSE_DATABASE_URL: `postgres://${cluster.user}:${encodeURIComponent(cluster.password)}@${cluster.host}:${cluster.port}/${database}`,
      GATEHOUSE_MASTER_KEY: randomBytes(32).toString('base64'),
    };
    ctx.progress('cluster: starting three nodes on PostgreSQL');
    const nodes = await startNodes(ctx, 3, env, publicUrl);
    const cli = path.join(ctx.root, 'dist', 'cli', 'main.js');
    const { stdout } = await run(
      process.execPath,
      [cli, 'token', 'issue', '--config', (nodes[0] as Node).config, '--sub', 'bench-user', '--groups', 'bench', '--ttl', '15m'],
      {
        env,
        cwd: ctx.root,
      },
    );
    const token = stdout.trim();

    const rows: Record<string, string | number>[] = [];
    const row = (setup: string, count: number | string, r: Awaited<ReturnType<typeof load>>, base?: number) =>
      rows.push({
        setup,
        nodes: count,
        'calls/s': fmtInt(r.callsPerSec),
        'vs 1 node': base === undefined ? '' : `${(r.callsPerSec / base).toFixed(2)}×`,
        p50: fmtMs(r.p50Ms),
        p99: fmtMs(r.p99Ms),
        errors: r.errors,
      });
    // Every node's first calls pay for JIT and pool connections: warm all three, unmeasured.
    ctx.progress('cluster: warming the three nodes through nginx');
    const warm = await startNginx(
      nodes.map((n) => n.port),
      nginxPort,
    );
    proxies.push(warm);
    await load(`${publicUrl}/mcp`, token, 'warm-up');
    await warm.stop();
    proxies.pop();
    let one: number | undefined;
    for (const count of [1, 2, 3]) {
      ctx.progress(`cluster: nginx round robin over ${count} node(s), ${CONCURRENCY} in flight, ${seconds}s`);
      // nginx listens on the public URL's port (the token audience), one set of nodes at a time.
      const proxy = await startNginx(
        nodes.slice(0, count).map((n) => n.port),
        nginxPort,
      );
      proxies.push(proxy);
      const result = await load(`${publicUrl}/mcp`, token, `nginx-${count}`);
      await proxy.stop();
      proxies.pop();
      one ??= result.callsPerSec;
      row('nginx → PostgreSQL nodes', count, result, one);
    }
    ctx.progress('cluster: one node direct, PostgreSQL storage');
    // Direct to the node, with the Host the public URL names (as nginx passes it on).
    const pgDirect = await load(`http://127.0.0.1:${(nodes[0] as Node).port}/mcp`, token, 'pg-direct', `127.0.0.1:${nginxPort}`);
    for (const node of nodes) await node.process.stop();
    ctx.progress('cluster: one node direct, SQLite storage (same config otherwise)');
    const sqlite = await startGatehouse(ctx, 'cluster-sqlite');
    const sqliteDirect = await load(sqlite.url, ((await sqlite.headers()).authorization ?? '').slice('Bearer '.length), 'sqlite-direct');
    await sqlite.process.stop();
    row('one node, SQLite audit path', 1, sqliteDirect);
    row('one node, PostgreSQL audit path', 1, pgDirect, sqliteDirect.callsPerSec);
    return {
      title: `Cluster: calls/s through nginx, stateless echo calls, ${CONCURRENCY} in flight`,
      rows,
      notes: [
        'Every process shares this machine (2 shared cores here): PostgreSQL, nginx, the nodes, their echo upstreams and the load generator. More nodes compete for the same CPU; scaling needs more hosts.',
        '"vs 1 node" on the PostgreSQL line compares with the SQLite line: the cost of the shared store (intent and outcome committed per call batch over the network, LISTEN/NOTIFY, shared rate-limit counters).',
        'PostgreSQL runs with fsync, synchronous_commit and full_page_writes on (durable, like SQLite here).',
        'nginx opens a new connection to a node per request (no upstream keepalive, so a dead node is skipped, see deploy/cluster): the 1-node nginx line against the direct line is that cost plus nginx’s own CPU on the same cores.',
        'Measured in one run; compare ratios within it, not with other runs.',
      ],
    };
  } finally {
    for (const proxy of proxies) await proxy.stop().catch(() => undefined);
    await cluster?.stop();
  }
}
