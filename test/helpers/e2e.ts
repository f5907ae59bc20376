/**
 * End-to-end helpers: the real, built `gatehouse` CLI as child processes, real upstream
 * servers, and the official MCP SDK client. Every process and temp dir a test creates is
 * tracked and removed by `cleanup()` (call it from `afterAll`), and killed on process exit
 * even when a test fails half-way.
 */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams, type SpawnOptions } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { freePort } from '../../src/util/free-port.ts';
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
export const FS_SERVER = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
export const MEMORY_SERVER = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');

/** server-memory storing its graph in `dir`, the one folder its sandbox lets it write. */
export function memoryServer(dir: string): Record<string, unknown> {
  return { command: NODE, args: [MEMORY_SERVER], env: { MEMORY_FILE_PATH: path.join(dir, 'memory.jsonl') }, sandbox: { writable: [dir] } };
}

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: end-to-end tests run the built CLI; run \`make build\` first`);

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const clients = new Set<Client>();

process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** A fresh temp directory, removed by `cleanup()`. */
export function tempDir(prefix = 'gh-e2e-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Closes clients, stops every process this file started (SIGTERM, then SIGKILL) and removes temp dirs. */
export async function cleanup(): Promise<void> {
  await Promise.all([...clients].map((c) => c.close().catch(() => undefined)));
  clients.clear();
  await Promise.all([...children].map((child) => terminate(child, 5000)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Spawns a process that `cleanup()` will stop if the test does not. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcessWithoutNullStreams {
  const child = spawn(command, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Collects newline-delimited JSON messages from a stream. */
export function jsonLines(stream: NodeJS.ReadableStream): {
  messages: Record<string, unknown>[];
  next(predicate: (m: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
} {
  const messages: Record<string, unknown>[] = [];
  let buffer = '';
  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let at: number;
    while ((at = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, at).trim();
      buffer = buffer.slice(at + 1);
      if (line) messages.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  return { messages, next: (predicate, what) => waitFor(() => messages.find(predicate), what) };
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
  }
  children.delete(child);
}

export { freePort };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------- the CLI

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/main.js ...args` to completion. */
export function cli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI, ...args], { env: options.env ?? process.env, cwd: options.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gatehouse ${args.join(' ')} did not finish in ${options.timeoutMs ?? 20_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------- a gateway process

export interface GatewayOptions {
  /** gatehouse.yaml content, without listen/publicUrl (the helper picks a free port). */
  config: Record<string, unknown>;
  /** Extra environment variables for the gateway process. */
  env?: Record<string, string>;
  /** Replace the environment entirely (PATH is always kept so `node` resolves). */
  exactEnv?: boolean;
  dataDir?: string;
}

export class GatewayProcess {
  #stdout = '';
  #stderr = '';
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly dataDir: string,
    readonly configPath: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.#stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.exit = exited(child);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get mcpUrl(): string {
    return `${this.url}/mcp`;
  }
  get pid(): number {
    return this.child.pid as number;
  }
  get stdout(): string {
    return this.#stdout;
  }
  /** Everything the gateway wrote to stderr: pino JSON lines. */
  get stderr(): string {
    return this.#stderr;
  }

  /** The parsed pino log lines so far. */
  logs(): Record<string, unknown>[] {
    return this.#stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  waitForLog(predicate: (line: Record<string, unknown>) => boolean, what: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return waitFor(() => this.logs().find(predicate), `log line: ${what}`, timeoutMs);
  }

  /** `gatehouse token issue --data-dir … --sub …`; returns the token. */
  async token(sub: string, options: { groups?: string[]; ttl?: string } = {}): Promise<string> {
    const args = ['token', 'issue', '--data-dir', this.dataDir, '--sub', sub];
    if (options.groups) args.push('--groups', options.groups.join(','));
    if (options.ttl) args.push('--ttl', options.ttl);
    const result = await cli(args);
    if (result.code !== 0) throw new Error(`token issue failed (${result.code}): ${result.stderr}`);
    return result.stdout.trim();
  }

  async readyz(): Promise<{ status: number; body: Readiness }> {
    const response = await fetch(`${this.url}/readyz`);
    return { status: response.status, body: (await response.json()) as Readiness };
  }

  /** Sends a signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exit;
    clearTimeout(timer);
    children.delete(this.child);
    return result;
  }
}

export interface Readiness {
  ready: boolean;
  storage: boolean;
  audit: boolean;
  upstreams: Record<string, { ready: boolean; detail: { isolation: string; instances: { state: string; pid?: number; restarts: number; tools: number }[] } }>;
}

/** Writes gatehouse.yaml for a free port and the given config; returns its path and port. */
export async function writeConfig(dir: string, config: Record<string, unknown>): Promise<{ configPath: string; port: number }> {
  const port = await freePort();
  const configPath = path.join(dir, 'gatehouse.yaml');
  writeFileSync(configPath, stringify({ listen: { host: '127.0.0.1', port }, publicUrl: `http://127.0.0.1:${port}`, ...config }));
  return { configPath, port };
}

/**
 * Starts `gatehouse start --config <tmp yaml> --data-dir <tmp>` on a free port and resolves
 * once it prints "Gatehouse ready at". A port taken in the meantime is retried.
 */
export async function startGateway(options: GatewayOptions): Promise<GatewayProcess> {
  const dir = tempDir('gh-e2e-gw-');
  const dataDir = options.dataDir ?? path.join(dir, 'data');
  for (let attempt = 1; ; attempt++) {
    const { configPath, port } = await writeConfig(dir, options.config);
    const env = options.exactEnv ? { PATH: process.env.PATH ?? '', ...options.env } : { ...process.env, ...options.env };
    const child = spawn(NODE, [CLI, 'start', '--config', configPath, '--data-dir', dataDir], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const gateway = new GatewayProcess(child, port, dataDir, configPath);
    const outcome = await Promise.race([
      waitFor(() => gateway.stdout.includes('Gatehouse ready at'), 'Gatehouse ready', 30_000).then(() => 'ready' as const),
      gateway.exit.then(() => 'exited' as const),
    ]);
    if (outcome === 'ready') {
      if (!gateway.stdout.includes(`Gatehouse ready at http://127.0.0.1:${port}/mcp`)) throw new Error(`unexpected ready line: ${gateway.stdout}`);
      return gateway;
    }
    children.delete(child);
    if (attempt < 3 && /EADDRINUSE/.test(gateway.stderr)) continue;
    throw new Error(`gatehouse start exited before it was ready (${JSON.stringify(await gateway.exit)}):\n${gateway.stdout}\n${gateway.stderr}`);
  }
}

// ---------------------------------------------------------------- upstreams

export interface EchoHttpUpstream {
  url: string;
  child: ChildProcess;
  /** Request headers of every request the upstream received, in order. */
  seenHeaders(): Promise<IncomingHttpHeaders[]>;
}

/** The echo fixture serving Streamable HTTP on a free port (`echo-server.mjs --http 0`). */
export async function startEchoHttp(env: Record<string, string> = {}): Promise<EchoHttpUpstream> {
  const child = spawn(NODE, [ECHO_SERVER, '--http', '0'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const port = await Promise.race([
    waitFor(() => /listening (\d+)/.exec(out)?.[1], 'echo --http to listen'),
    exited(child).then((e) => Promise.reject(new Error(`echo --http exited: ${JSON.stringify(e)}`))),
  ]);
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/mcp`,
    child,
    async seenHeaders() {
      const response = await fetch(`${base}/seen-headers`);
      return (await response.json()) as IncomingHttpHeaders[];
    },
  };
}

// ---------------------------------------------------------------- MCP clients

/**
 * An SDK client connected to the gateway over Streamable HTTP with a bearer token. Resolves
 * once the client's standalone GET stream is open too: the SDK opens it in the background
 * after `connect`, and messages not tied to a request (list_changed, resources/updated) can
 * only arrive there.
 */
export async function connectClient(
  gateway: GatewayProcess,
  token: string,
  options: { name?: string; capabilities?: ClientCapabilities; setup?: (client: Client) => void } = {},
): Promise<Client> {
  const client = new Client({ name: options.name ?? 'e2e-client', version: '1.0.0' }, { capabilities: options.capabilities ?? {} });
  options.setup?.(client);
  let streamOpen!: () => void;
  const opened = new Promise<void>((resolve) => (streamOpen = resolve));
  const transport = new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    fetch: async (url, init) => {
      const response = await fetch(url, init);
      if (init?.method === 'GET' && response.ok) streamOpen();
      return response;
    },
  });
  await client.connect(transport);
  clients.add(client);
  await Promise.race([opened, sleep(10_000).then(() => Promise.reject(new Error('the client’s GET stream did not open')))]);
  return client;
}

/** The text of a tool result's first content item. */
export function text(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content;
  const first = content?.[0];
  if (first?.type !== 'text' || typeof first.text !== 'string') throw new Error(`not a text result: ${JSON.stringify(result)}`);
  return first.text;
}

// ---------------------------------------------------------------- raw HTTP

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json(): Record<string, unknown>;
}

/**
 * One HTTP exchange over a real socket with full control of the headers (Host and Origin
 * included, which fetch does not allow). Reads the whole body.
 */
export function rawHttp(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers, ...(options.chunked ? { 'transfer-encoding': 'chunked' } : {}) };
    const req = httpRequest(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as Record<string, unknown> }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunked && options.body !== undefined) {
      // No content-length: the server must enforce its limit while streaming.
      const body = Buffer.from(options.body);
      for (let at = 0; at < body.length; at += 1024) req.write(body.subarray(at, at + 1024));
      req.end();
    } else req.end(options.body);
  });
}

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } as const;

/** The JSON-RPC messages in a response body (plain JSON or SSE `data:` lines). */
export function rpcMessages(response: RawResponse): Record<string, unknown>[] {
  if (String(response.headers['content-type']).startsWith('text/event-stream')) {
    return response.body
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
  }
  return response.body ? [JSON.parse(response.body) as Record<string, unknown>] : [];
}

/** initialize + notifications/initialized over raw HTTP; returns the session id. */
export async function openRawSession(gateway: GatewayProcess, token: string): Promise<string> {
  const headers = { ...MCP_HEADERS, authorization: `Bearer ${token}` };
  const init = await rawHttp(gateway.mcpUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  if (init.status !== 200) throw new Error(`initialize: ${init.status} ${init.body}`);
  const sid = init.headers['mcp-session-id'];
  if (typeof sid !== 'string') throw new Error('no mcp-session-id');
  const note = await rawHttp(gateway.mcpUrl, {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': sid },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  if (note.status !== 202) throw new Error(`initialized: ${note.status} ${note.body}`);
  return sid;
}

/** A long-lived SSE response (GET /mcp) whose events are collected as they arrive. */
export interface SseStream {
  status: number;
  headers: IncomingHttpHeaders;
  events: Record<string, unknown>[];
  next(predicate: (event: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers, agent: false }, (res) => {
      const events: Record<string, unknown>[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data) events.push(JSON.parse(data) as Record<string, unknown>);
        }
      });
      res.on('error', () => undefined);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        next: (predicate, what, timeoutMs = 10_000) => waitFor(() => events.find(predicate), what, timeoutMs),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------- the data dir

export interface AuditRow {
  seq: number;
  ts: number;
  kind: string;
  body: Record<string, unknown> & { actor?: { sub?: string }; target?: { tool?: string; server?: string }; outcome?: { status?: string; code?: string } };
  rawBody: string;
  prevHash: string;
  hash: string;
}

export function dbFile(dataDir: string): string {
  return path.join(dataDir, 'gatehouse.db');
}

/** Reads the audit table straight from SQLite (as an outside auditor would). */
export function auditRows(dataDir: string): AuditRow[] {
  const db = new DatabaseSync(dbFile(dataDir), { readOnly: true });
  try {
    const rows = db.prepare('SELECT seq, ts, kind, body, prev_hash, hash FROM audit_records ORDER BY seq').all() as unknown as {
      seq: number;
      ts: number;
      kind: string;
      body: string;
      prev_hash: string;
      hash: string;
    }[];
    return rows.map((r) => ({
      seq: r.seq,
      ts: r.ts,
      kind: r.kind,
      body: JSON.parse(r.body) as AuditRow['body'],
      rawBody: r.body,
      prevHash: r.prev_hash,
      hash: r.hash,
    }));
  } finally {
    db.close();
  }
}

/** Runs SQL against the data dir's database (tampering tests). */
export function execSql(dataDir: string, sql: string): void {
  const db = new DatabaseSync(dbFile(dataDir));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** The public and private JWK of the active access-token signing key, from the database. */
export function accessTokenKey(dataDir: string): { kid: string; publicJwk: Record<string, unknown>; privateJwk: Record<string, unknown> } {
  const db = new DatabaseSync(dbFile(dataDir), { readOnly: true });
  try {
    const row = db.prepare("SELECT kid, public_jwk, private_jwk FROM signing_keys WHERE use = 'access-token' AND retired_at IS NULL").get() as
      | { kid: string; public_jwk: string; private_jwk: string }
      | undefined;
    if (!row) throw new Error('no active access-token signing key in the database');
    return {
      kid: row.kid,
      publicJwk: JSON.parse(row.public_jwk) as Record<string, unknown>,
      privateJwk: JSON.parse(row.private_jwk) as Record<string, unknown>,
    };
  } finally {
    db.close();
  }
}

/** Copies a (stopped) data dir, WAL files included. */
export function copyDataDir(from: string): string {
  const to = path.join(tempDir('gh-e2e-copy-'), 'data');
  cpSync(from, to, { recursive: true });
  return to;
}
