import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI (`make test` builds before testing). */
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse …` as its own process (the real binary), feeding `stdin`. */
export function gatehouse(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run make build`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** A `gatehouse start` process: waits for "ready", collects its output, stops or kills it. */
export class GatewayProcess {
  stdout = '';
  stderr = '';
  url = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  readonly child: ChildProcess;

  // No parameter properties: this file also runs under plain node (type stripping), for the demo.
  private constructor(child: ChildProcess) {
    this.child = child;
    child.stdout?.on('data', (c: Buffer) => (this.stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** `extraFd` is written to file descriptor 3 and closed (for --secrets-fd 3). */
  static async start(args: string[], options: { env: NodeJS.ProcessEnv; stdin?: string; fd3?: string; timeoutMs?: number }): Promise<GatewayProcess> {
    const child = spawn(process.execPath, [CLI, 'start', ...args], {
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe', ...(options.fd3 !== undefined ? (['pipe'] as const) : [])],
    });
    const gateway = new GatewayProcess(child);
    child.stdin?.end(options.stdin ?? '');
    if (options.fd3 !== undefined) {
      const fd3 = child.stdio[3] as NodeJS.WritableStream;
      fd3.end(options.fd3);
    }
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    while (!/Gatehouse ready at (\S+)\/mcp/.test(gateway.stdout)) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`gatehouse start did not become ready (exit ${child.exitCode}):\n${gateway.stdout}\n${gateway.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    gateway.url = (/Gatehouse ready at (\S+)\/mcp/.exec(gateway.stdout) as RegExpExecArray)[1] as string;
    return gateway;
  }

  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** An MCP client (the official SDK) signed in with `token`. */
  async client(token: string): Promise<Client> {
    const client = new Client({ name: 'test-agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${this.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    return client;
  }
}
