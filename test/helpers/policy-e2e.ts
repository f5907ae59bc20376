/**
 * End-to-end helpers for the policy, approval and rate-limit tests: the built CLI as child
 * processes (`node dist/cli/main.js`), the stdio echo fixture as upstream, the official MCP
 * SDK client. Everything started here is stopped by `cleanup()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { stringify } from 'yaml';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');
export const NODE = process.execPath;
export const ECHO_SERVER = path.join(ROOT, 'test/fixtures/echo-server.mjs');
export const STARTER_POLICIES = path.join(ROOT, 'examples/policies');

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: end-to-end tests run the built CLI; run \`make build\` first`);

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
const clients = new Set<Client>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export function tempDir(prefix = 'gh-pol-e2e-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export async function cleanup(): Promise<void> {
  await Promise.all([...clients].map((c) => c.close().catch(() => undefined)));
  clients.clear();
  await Promise.all([...children].map((child) => stopChild(child)));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  children.delete(child);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gatehouse ${args.join(' ')} did not finish\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
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
export async function startGateway(config: Record<string, unknown>, options: { policies?: string; extraPolicies?: Record<string, string> } = {}): Promise<GatewayProcess> {
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
    const child = spawn(NODE, [CLI, 'start', '--config', configPath, '--data-dir', dataDir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const gw = new GatewayProcess(child, port, dir, dataDir, configPath, policiesDir);
    const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
    const outcome = await Promise.race([waitFor(() => gw.stdout.includes('Gatehouse ready at'), 'gateway ready', 30_000).then(() => 'ready' as const), exited]);
    if (outcome === 'ready') return gw;
    children.delete(child);
    const stderr = gw.logs().map((l) => JSON.stringify(l)).join('\n');
    if (attempt < 3 && stderr.includes('EADDRINUSE')) continue;
    throw new Error(`gatehouse start exited before it was ready:\n${gw.stdout}\n${stderr}`);
  }
}

export async function connectClient(gw: GatewayProcess, token: string, options: { capabilities?: ClientCapabilities; setup?: (client: Client) => void } = {}): Promise<Client> {
  const client = new Client({ name: 'policy-e2e', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  options.setup?.(client);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  clients.add(client);
  return client;
}

export function text(result: unknown): string {
  const first = (result as { content?: { type: string; text?: string }[] }).content?.[0];
  if (!first || first.type !== 'text' || typeof first.text !== 'string') throw new Error(`not a text result: ${JSON.stringify(result)}`);
  return first.text;
}

export interface AuditRow {
  seq: number;
  kind: string;
  body: Record<string, any>;
}

/** The audit table, read straight from SQLite as an outside auditor would. */
export function auditRows(dataDir: string): AuditRow[] {
  const db = new DatabaseSync(path.join(dataDir, 'gatehouse.db'), { readOnly: true });
  try {
    return (db.prepare('SELECT seq, kind, body FROM audit_records ORDER BY seq').all() as unknown as { seq: number; kind: string; body: string }[]).map((r) => ({ seq: r.seq, kind: r.kind, body: JSON.parse(r.body) as Record<string, any> }));
  } finally {
    db.close();
  }
}

export function approvalRows(dataDir: string): { id: string; status: string; requester: string; target: string; args_hash: string }[] {
  const db = new DatabaseSync(path.join(dataDir, 'gatehouse.db'), { readOnly: true });
  try {
    return db.prepare('SELECT id, status, requester, target, args_hash FROM approvals ORDER BY created_at, rowid').all() as unknown as { id: string; status: string; requester: string; target: string; args_hash: string }[];
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
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
  const sid = init.headers.get('mcp-session-id') as string;
  await init.text();
  await (await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-session-id': sid }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
  const res = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = await res.text();
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    const events = body.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
    return events[events.length - 1] as Record<string, unknown>;
  }
  return JSON.parse(body) as Record<string, unknown>;
}
