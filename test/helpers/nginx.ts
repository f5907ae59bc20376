// nginx from Debian's packages in front of several gateway nodes, configured from the shipped
// template (deploy/cluster/nginx.conf.template), so the tests exercise the deployment file.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/util/free-port.ts';
import { ensureDebianBinary } from './debian-package.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const NGINX_TEMPLATE = path.join(ROOT, 'deploy/cluster/nginx.conf.template');
export const NGINX_BINARY = '/usr/sbin/nginx';

/** Installs nginx when missing (as root); throws with the reason when it cannot. */
export function ensureNginx(log?: (line: string) => void): Promise<string> {
  return ensureDebianBinary(NGINX_BINARY, 'nginx', log);
}

/** The template with its placeholders filled in. */
export function renderNginxConfig(prefix: string, listen: string, nodePorts: readonly number[]): string {
  const nodes = nodePorts.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;`).join('\n');
  return readFileSync(NGINX_TEMPLATE, 'utf8').replaceAll('@PREFIX@', prefix).replaceAll('@LISTEN@', listen).replace('@NODES@', nodes);
}

export interface Nginx {
  port: number;
  url: string;
  prefix: string;
  /** Upstream address of every request logged so far (`127.0.0.1:PORT`, several when retried). */
  upstreams(): { request: string; status: string; upstream: string }[];
  stop(): Promise<void>;
}

/** Starts nginx on a free loopback port, round robin over `nodePorts`. */
export async function startNginx(nodePorts: readonly number[], listenPort?: number): Promise<Nginx> {
  const binary = await ensureNginx();
  const prefix = mkdtempSync(path.join(tmpdir(), 'gh-nginx-'));
  // Run as root, nginx's workers drop to an unprivileged user that must reach the temp paths.
  chmodSync(prefix, 0o755);
  for (const dir of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(prefix, dir));
  const port = listenPort ?? (await freePort());
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(conf, renderNginxConfig(prefix, `127.0.0.1:${port}`, nodePorts));
  const child: ChildProcess = spawn(binary, ['-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited at start (${child.exitCode}): ${stderr}${readLog(prefix, 'error.log')}`);
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}: ${stderr}${readLog(prefix, 'error.log')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    prefix,
    upstreams: () =>
      readLog(prefix, 'access.log')
        .split('\n')
        .filter(Boolean)
        .map((line) => ({
          request: /"([^"]*)"/.exec(line)?.[1] ?? '',
          status: / (\d{3}) \d+ upstream=/.exec(line)?.[1] ?? '',
          upstream: / upstream=(\S+)/.exec(line)?.[1] ?? '',
        })),
    async stop() {
      if (child.exitCode === null) child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

function readLog(prefix: string, name: string): string {
  try {
    return readFileSync(path.join(prefix, name), 'utf8');
  } catch {
    return '';
  }
}
