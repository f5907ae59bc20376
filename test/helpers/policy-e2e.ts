/**
 * End-to-end helpers for the policy, approval and rate-limit tests: a gateway started with a
 * copy of a policy folder, its CLI bound to that gateway's config, approvals read from SQLite.
 * Processes, temp dirs and the CLI come from ./e2e.ts; `cleanup()` stops everything.
 */
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { stringify } from 'yaml';
import {
  auditRows as readAuditRows,
  cleanup as cleanupProcesses,
  cli,
  CLI,
  dbFile,
  ECHO_SERVER,
  freePort,
  NODE,
  ROOT,
  spawnTracked,
  tempDir,
  waitFor as poll,
  type CliResult,
} from './e2e.js';

export { cli, ECHO_SERVER, NODE, ROOT, sleep, tempDir, text, type CliResult } from './e2e.js';
export const STARTER_POLICIES = path.join(ROOT, 'examples/policies');

const clients = new Set<Client>();

/** Closes the SDK clients opened here, then every process and temp dir (./e2e.ts). */
export async function cleanup(): Promise<void> {
  await Promise.all([...clients].map((c) => c.close().catch(() => undefined)));
  clients.clear();
  await cleanupProcesses();
}

/** Approval and policy waits include a gateway round trip or two: 15 s by default. */
export function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  return poll(check, what, timeoutMs);
}

export class GatewayProcess {
  #stdout = '';
  #stderr = '';
  constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly dir: string,
    readonly dataDir: string,
    readonly configPath: string,
    readonly policiesDir: string,
  ) {
    child.stdout?.on('data', (c: Buffer) => (this.#stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.#stderr += c.toString()));
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get stdout(): string {
    return this.#stdout;
  }
  logs(): Record<string, unknown>[] {
    return this.#stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  async token(sub: string, groups: string[] = []): Promise<string> {
    const result = await cli(['token', 'issue', '--data-dir', this.dataDir, '--sub', sub, ...(groups.length ? ['--groups', groups.join(',')] : [])]);
    if (result.code !== 0) throw new Error(`token issue: ${result.stderr}`);
    return result.stdout.trim();
  }
  /** `gatehouse <args> --config <this gateway's file> --data-dir <its data dir>`. */
  cli(args: string[]): Promise<CliResult> {
    return cli([...args, '--config', this.configPath, '--data-dir', this.dataDir]);
  }
}

/**
 * Writes gatehouse.yaml (echo server, a copy of `policies` when given) and starts
 * `gatehouse start` on a free port; resolves once it says it is ready.
 */
export async function startGateway(
  config: Record<string, unknown>,
  options: { policies?: string; extraPolicies?: Record<string, string> } = {},
): Promise<GatewayProcess> {
  const dir = tempDir('gh-pol-gw-');
  const dataDir = path.join(dir, 'data');
  const policiesDir = path.join(dir, 'policies');
  if (options.policies) cpSync(options.policies, policiesDir, { recursive: true });
  for (const [name, text] of Object.entries(options.extraPolicies ?? {})) writeFileSync(path.join(policiesDir, name), text);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const configPath = path.join(dir, 'gatehouse.yaml');
    writeFileSync(
      configPath,
      stringify({
        listen: { host: '127.0.0.1', port },
        publicUrl: `http://127.0.0.1:${port}`,
        servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
        ...(options.policies ? { policies: './policies' } : {}),
        ...config,
      }),
    );
    const child = spawnTracked(NODE, [CLI, 'start', '--config', configPath, '--data-dir', dataDir], { cwd: dir });
    const gw = new GatewayProcess(child, port, dir, dataDir, configPath, policiesDir);
    const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
    const outcome = await Promise.race([waitFor(() => gw.stdout.includes('Gatehouse ready at'), 'gateway ready', 30_000).then(() => 'ready' as const), exited]);
    if (outcome === 'ready') return gw;
    const stderr = gw
      .logs()
      .map((l) => JSON.stringify(l))
      .join('\n');
    if (attempt < 3 && stderr.includes('EADDRINUSE')) continue;
    throw new Error(`gatehouse start exited before it was ready:\n${gw.stdout}\n${stderr}`);
  }
}

export async function connectClient(
  gw: GatewayProcess,
  token: string,
  options: { capabilities?: ClientCapabilities; setup?: (client: Client) => void } = {},
): Promise<Client> {
  const client = new Client({ name: 'policy-e2e', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  options.setup?.(client);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  clients.add(client);
  return client;
}

/** The audit table as ./e2e.ts reads it, with a body loose enough for policy assertions. */
export interface AuditRow {
  seq: number;
  kind: string;
  body: Record<string, any>;
}

export function auditRows(dataDir: string): AuditRow[] {
  return readAuditRows(dataDir);
}

export function approvalRows(dataDir: string): { id: string; status: string; requester: string; target: string; args_hash: string }[] {
  const db = new DatabaseSync(dbFile(dataDir), { readOnly: true });
  try {
    return db.prepare('SELECT id, status, requester, target, args_hash FROM approvals ORDER BY created_at, rowid').all() as unknown as {
      id: string;
      status: string;
      requester: string;
      target: string;
      args_hash: string;
    }[];
  } finally {
    db.close();
  }
}

/** Posts one raw JSON-RPC request on a fresh session; returns the parsed response. */
export async function rawCall(gw: GatewayProcess, token: string, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` };
  const init = await fetch(`${gw.url}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  const sid = init.headers.get('mcp-session-id') as string;
  await init.text();
  await (
    await fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': sid },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    })
  ).text();
  const res = await fetch(`${gw.url}/mcp`, {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await res.text();
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    const events = body
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
    return events[events.length - 1] as Record<string, unknown>;
  }
  return JSON.parse(body) as Record<string, unknown>;
}
