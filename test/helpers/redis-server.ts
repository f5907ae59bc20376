// A throwaway redis-server from Debian's packages on a loopback port, with a generated
// password and no persistence, that a test can stop and start again on the same port.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/util/free-port.ts';
import { ensureDebianBinary } from './debian-package.ts';

export const REDIS_BINARY = '/usr/bin/redis-server';

/** Installs redis-server when missing (as root); throws with the reason when it cannot. */
export function ensureRedis(log?: (line: string) => void): Promise<string> {
  return ensureDebianBinary(REDIS_BINARY, 'redis-server', log);
}

export interface RedisServer {
  port: number;
  password: string;
  /** redis://:PASSWORD@127.0.0.1:PORT/0 */
  url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Resolves once something accepts connections on the port, or rejects after `timeoutMs`. */
async function listening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(): Promise<RedisServer> {
  const binary = await ensureRedis();
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-redis-'));
  const port = await freePort();
  const password = randomBytes(18).toString('base64url');
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    // The password goes in on stdin (a config read from "-"), not argv: argv is world-readable.
    child = spawn(binary, ['-'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.stdin?.end(
      [`port ${port}`, 'bind 127.0.0.1', 'protected-mode yes', `requirepass ${password}`, 'save ""', 'appendonly no', `dir ${dir}`, 'daemonize no', ''].join(
        '\n',
      ),
    );
    const exited = new Promise<never>((_, reject) => child?.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${output}`))));
    await Promise.race([listening(port, 10_000), exited]);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGKILL');
    await gone;
  };
  await start();
  process.once('exit', () => child?.kill('SIGKILL'));
  return {
    port,
    password,
    url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}/0`,
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
