// A Gatehouse cluster for end-to-end tests: a fresh database in the shared throwaway
// PostgreSQL, N real `gatehouse start` processes on it (one config each, same public URL),
// and Debian's nginx in front of them from the shipped template. Everything is torn down by
// `stop()` (and the e2e helpers' cleanup for the node processes).
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import type { PostgresConnectionInfo } from './postgres-cluster.ts';
import { cli, CLI, freePort, GatewayProcess, NODE, tempDir, waitFor, type CliResult } from './e2e.ts';
import { startNginx, type Nginx } from './nginx.ts';

export const DATABASE_URL_ENV = 'GATEHOUSE_DATABASE_URL';

export interface ClusterNode {
  index: number;
  port: number;
  configPath: string;
  dataDir: string;
  process: GatewayProcess | undefined;
}

export interface Cluster {
  nodes: ClusterNode[];
  nginx: Nginx;
  /** The public URL every node is configured with: nginx. */
  url: string;
  mcpUrl: string;
  database: string;
  databaseUrl: string;
  env: NodeJS.ProcessEnv;
  /** Runs SQL as the superuser in the cluster's database. */
  sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  /** `gatehouse …` against node `index`'s config (same database), with the URL in the environment. */
  cli(args: string[], options?: { input?: string; node?: number }): Promise<CliResult>;
  token(sub: string, options?: { groups?: string[]; ttl?: string }): Promise<string>;
  /** Starts (or restarts) node `index`. */
  startNode(index: number): Promise<GatewayProcess>;
  /** Node index by upstream port, for nginx's access log. */
  nodeOfUpstream(upstream: string): number | undefined;
  stop(): Promise<void>;
}

/** Starts `nodes` gateway processes on one new database, and nginx in front. */
export async function startCluster(
  info: PostgresConnectionInfo,
  config: Record<string, unknown>,
  options: { nodes?: number; policies?: string } = {},
): Promise<Cluster> {
  const nodes = options.nodes ?? 3;
  const database = `gh_cluster_${randomBytes(4).toString('hex')}`;
  const root = new pg.Client({ ...info, database: 'postgres' });
  await root.connect();
  await root.query(`CREATE DATABASE ${database}`);
  await root.end();
  const databaseUrl = `postgres://${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}@${info.host}:${info.port}/${database}`;
  const pool = new pg.Pool({ ...info, database, max: 2 });
  pool.on('error', () => undefined);

  const nginxPort = await freePort();
  const url = `http://127.0.0.1:${nginxPort}`;
  const dir = tempDir('gh-cluster-');
  if (options.policies) cpSync(options.policies, path.join(dir, 'policies'), { recursive: true });
  const masterKey = randomBytes(32).toString('base64');
  const env = { ...process.env, [DATABASE_URL_ENV]: databaseUrl, GATEHOUSE_MASTER_KEY: masterKey };
  const list: ClusterNode[] = [];
  for (let index = 0; index < nodes; index++) {
    const port = await freePort();
    const dataDir = path.join(dir, `node${index + 1}`);
    const configPath = path.join(dir, `node${index + 1}.yaml`);
    writeFileSync(
      configPath,
      stringify({
        listen: { host: '127.0.0.1', port },
        publicUrl: url,
        // nginx on loopback is the only hop whose X-Forwarded-For is believed.
        trustedProxies: ['127.0.0.1/32'],
        storage: { postgres: { url: `\${${DATABASE_URL_ENV}}`, poolSize: 4 } },
        ...(options.policies ? { policies: './policies' } : {}),
        ...config,
      }),
    );
    list.push({ index, port, configPath, dataDir, process: undefined });
  }

  const startNode = async (index: number): Promise<GatewayProcess> => {
    const node = list[index] as ClusterNode;
    const child = spawn(NODE, [CLI, 'start', '--config', node.configPath, '--data-dir', node.dataDir], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const gateway = new GatewayProcess(child, node.port, node.dataDir, node.configPath);
    const outcome = await Promise.race([
      waitFor(() => gateway.stdout.includes('Gatehouse ready at'), `node ${index + 1} ready`, 60_000).then(() => 'ready' as const),
      gateway.exit.then(() => 'exited' as const),
    ]);
    if (outcome !== 'ready') throw new Error(`node ${index + 1} exited before it was ready:\n${gateway.stdout}\n${gateway.stderr}`);
    node.process = gateway;
    return gateway;
  };
  process.once('exit', () => {
    for (const node of list) node.process?.child.kill('SIGKILL');
  });
  // Nodes starting together race for the migrations: the advisory lock serialises them.
  await Promise.all(list.map((node) => startNode(node.index)));
  const nginx = await startNginx(
    list.map((n) => n.port),
    nginxPort,
  );

  const runCli = (args: string[], options: { input?: string; node?: number } = {}) =>
    cli([...args, '--config', (list[options.node ?? 0] as ClusterNode).configPath], {
      env,
      ...(options.input !== undefined ? { input: options.input } : {}),
      timeoutMs: 60_000,
    });
  return {
    nodes: list,
    nginx,
    url,
    mcpUrl: `${url}/mcp`,
    database,
    databaseUrl,
    env,
    sql: async (text, values = []) => (await pool.query(text, values)).rows,
    cli: runCli,
    async token(sub, options = {}) {
      const args = ['token', 'issue', '--sub', sub];
      if (options.groups) args.push('--groups', options.groups.join(','));
      if (options.ttl) args.push('--ttl', options.ttl);
      const result = await runCli(args);
      if (result.code !== 0) throw new Error(`token issue failed (${result.code}): ${result.stderr}`);
      return result.stdout.trim();
    },
    startNode,
    nodeOfUpstream: (upstream) => list.find((n) => upstream === `127.0.0.1:${n.port}`)?.index,
    async stop() {
      await nginx.stop();
      await Promise.all(list.map((n) => n.process?.stop('SIGTERM', 10_000)));
      await pool.end();
      const admin = new pg.Client({ ...info, database: 'postgres' });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** `_meta` of a stateless (2026-07-28) request from a test client. */
export const STATELESS_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'cluster-test', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** What a stateless call answered: HTTP status and headers, and the JSON-RPC message (from JSON or the first SSE event). */
export interface StatelessAnswer {
  status: number;
  headers: Headers;
  body: string;
  message: {
    result?: { content?: { text?: string }[]; isError?: boolean };
    error?: { code: number; message: string; data?: { code?: string; limit?: string; retryAfterMs?: number } };
    code?: string;
  };
}

/** One stateless tools/call, raw (no client state), e.g. through nginx to the next node in the round. */
export async function statelessToolCall(url: string, token: string, name: string, args: Record<string, unknown>): Promise<StatelessAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: STATELESS_META } }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = await response.text();
  const json = body.startsWith('{')
    ? body
    : (body
        .split('\n')
        .find((l) => l.startsWith('data: '))
        ?.slice(6) ?? '{}');
  return { status: response.status, headers: response.headers, body, message: JSON.parse(json) as StatelessAnswer['message'] };
}
