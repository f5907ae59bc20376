// Gateway processes and CLI commands on the PostgreSQL storage (storage.postgres): two nodes
// share keys, the audit chain and revocations through one database; nothing lands in SQLite.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import pg from 'pg';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CLI, cleanup, cli, ECHO_SERVER, freePort, GatewayProcess, NODE, tempDir, text, waitFor } from '../helpers/e2e.js';
import { createDatabase, postgresInfo } from '../helpers/storage-backends.js';

/** What a load balancer gives every node: one public URL (the token audience and Host). */
const PUBLIC_URL = 'http://gatehouse.cluster.test:8443';

/** fetch to PUBLIC_URL, delivered to one node's port (as a load balancer would route it). */
function fetchVia(node: GatewayProcess): typeof fetch {
  const dispatcher = new Agent({
    connect: (_options, callback) => {
      const socket = net.connect(node.port, '127.0.0.1');
      socket.once('connect', () => callback(null, socket));
      socket.once('error', (error) => callback(error, null));
    },
  });
  return ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}

/** `gatehouse start` with the shared public URL (startGateway's helper expects a per-node one). */
async function startNode(config: Record<string, unknown>, env: Record<string, string>): Promise<GatewayProcess> {
  const dir = tempDir('gh-e2e-pgnode-');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const configPath = path.join(dir, 'gatehouse.yaml');
    writeFileSync(configPath, stringify({ listen: { host: '127.0.0.1', port }, publicUrl: PUBLIC_URL, ...config }));
    const dataDir = path.join(dir, 'data');
    const child = spawn(NODE, [CLI, 'start', '--config', configPath, '--data-dir', dataDir], {
      env: { ...process.env, ...env },
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const node = new GatewayProcess(child, port, dataDir, configPath);
    const outcome = await Promise.race([
      waitFor(() => node.stdout.includes(`Gatehouse ready at ${PUBLIC_URL}/mcp`), 'the node to be ready', 30_000).then(() => 'ready' as const),
      node.exit.then(() => 'exited' as const),
    ]);
    if (outcome === 'ready') return node;
    // Two nodes starting at once may have been handed the same free port: try another.
    if (attempt < 3 && /EADDRINUSE/.test(node.stderr + node.stdout)) continue;
    throw new Error(`gatehouse start exited:\n${node.stdout}\n${node.stderr}`);
  }
}

async function connectVia(node: GatewayProcess, token: string): Promise<Client> {
  const client = new Client({ name: 'e2e-pg', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${PUBLIC_URL}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } }, fetch: fetchVia(node) }),
  );
  return client;
}

const initialize = (gw: GatewayProcess, token: string) =>
  fetchVia(gw)(`${PUBLIC_URL}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'e2e', version: '1.0.0' } },
    }),
  });

describe('two gateway nodes and the CLI on storage.postgres', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let env: Record<string, string>;
  let nodeA: GatewayProcess;
  let nodeB: GatewayProcess;
  const query = async (sql: string) => {
    const client = new pg.Client(database.config);
    await client.connect();
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  /** The CLI with a node's config (its publicUrl is the token audience; the storage is the same). */
  const gatehouse = (args: string[], input = '', node: GatewayProcess = nodeA) =>
    cli([...args, '--config', node.configPath], { env: { ...process.env, ...env }, input });
  const tokenFor = async (sub: string, node: GatewayProcess) => {
    const issued = await gatehouse(['token', 'issue', '--sub', sub], '', node);
    expect(issued.code).toBe(0);
    return issued.stdout.trim();
  };

  beforeAll(async () => {
    database = await createDatabase('e2e');
    const info = postgresInfo();
    env = { GH_STORAGE_URL: `postgres://${info.user}:${encodeURIComponent(info.password)}@${info.host}:${info.port}/${database.name}` };
    const config = {
      storage: { postgres: { url: '${GH_STORAGE_URL}', poolSize: 4 } },
      servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
      access: [{ allow: { users: ['alice', 'bob'], servers: ['echo'] } }],
    };
    [nodeA, nodeB] = await Promise.all([startNode(config, env), startNode(config, env)]);
  });
  afterAll(async () => {
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    await cleanup();
    await database?.drop();
  });

  it('both nodes are ready on the shared store, and neither wrote a SQLite database', async () => {
    for (const node of [nodeA, nodeB]) {
      const { status, body } = await node.readyz();
      expect(status).toBe(200);
      expect(body).toMatchObject({ ready: true, storage: true, audit: true });
      expect(existsSync(path.join(node.dataDir, 'gatehouse.db'))).toBe(false);
    }
    expect(await query("SELECT count(*)::int AS n FROM signing_keys WHERE use = 'access-token' AND retired_at IS NULL")).toEqual([{ n: 1 }]);
  });

  it('the CLI signs tokens with the shared key ring and each node accepts them; both nodes audit into one chain that `audit verify` accepts', async () => {
    for (const [i, node] of [nodeA, nodeB].entries()) {
      const client = await connectVia(node, await tokenFor('alice', node));
      const result = await client.callTool({ name: 'echo', arguments: { text: `node ${i}` } });
      expect(text(result)).toBe(`node ${i}`);
      await client.close();
    }
    await waitFor(async () => (await query("SELECT count(*)::int AS n FROM audit_records WHERE kind = 'call.result'"))[0]?.n === 2, 'both results audited');
    const [{ n: records }] = (await query('SELECT count(*)::int AS n FROM audit_records')) as [{ n: number }];
    const verified = await gatehouse(['audit', 'verify', '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });
    expect(JSON.parse(verified.stdout).records).toBeGreaterThanOrEqual(records);
    const seqs = (await query('SELECT seq FROM audit_records ORDER BY seq')).map((r) => Number(r.seq));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });

  it('a revocation written by the CLI is enforced by both nodes within moments (LISTEN/NOTIFY), without a restart', async () => {
    const tokens = new Map([
      [nodeA, await tokenFor('bob', nodeA)],
      [nodeB, await tokenFor('bob', nodeB)],
    ]);
    for (const [node, token] of tokens) expect((await initialize(node, token)).status).toBe(200);
    const revoked = await gatehouse(['revoke', '--user', 'bob', '--reason', 'left the company']);
    expect(revoked.code).toBe(0);
    const started = Date.now();
    for (const [node, token] of tokens) {
      const refused = await waitFor(
        async () => {
          const response = await initialize(node, token);
          return response.status === 401 ? response : undefined;
        },
        'the revocation to reach the node',
        2000,
      );
      expect(await refused.json()).toMatchObject({ code: 'auth.token_revoked' });
    }
    expect(Date.now() - started).toBeLessThan(2000);
    // Another user's token still works: only bob was revoked.
    expect((await initialize(nodeB, await tokenFor('alice', nodeB))).status).toBe(200);
  });

  it('`vault put` on the CLI stores the secret in PostgreSQL, sealed', async () => {
    const canary = 'pg-vault-canary-value-5521';
    const put = await gatehouse(['vault', 'put', 'e2e-secret'], canary);
    expect(put.code).toBe(0);
    const rows = await query("SELECT name, version FROM vault_secrets WHERE name = 'e2e-secret'");
    expect(rows).toEqual([{ name: 'e2e-secret', version: 1 }]);
    expect(JSON.stringify(await query('SELECT * FROM vault_secrets'))).not.toContain(canary);
    const listed = await gatehouse(['vault', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('e2e-secret');
    expect(listed.stdout).not.toContain(canary);
  });
});
