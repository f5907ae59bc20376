import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadSpec, SessionsResult, SessionsSpec } from '../load-worker.ts';
import type { LoadResult } from './mcp-load.ts';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'load-worker.ts');

function startWorker(spec: LoadSpec | SessionsSpec): { child: ChildProcess; firstLine: Promise<string>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [WORKER, JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) resolve(stdout.slice(0, nl));
    });
    void exited.then((code) => reject(new Error(`load worker exited ${code} without a result: ${stderr.trim().slice(0, 500)}`)));
  });
  firstLine.catch(() => undefined);
  return { child, firstLine, exited };
}

/** Runs one timed load in a separate process and returns its measurements. */
export async function runLoadWorker(spec: Omit<LoadSpec, 'mode'>): Promise<LoadResult> {
  const { firstLine, exited } = startWorker({ mode: 'load', ...spec });
  const line = await firstLine;
  await exited;
  return JSON.parse(line) as LoadResult;
}

/** Opens sessions in a separate process and holds them until `release` is called. */
export async function holdSessionsWorker(spec: Omit<SessionsSpec, 'mode'>): Promise<{ result: SessionsResult; release(): Promise<void> }> {
  const { child, firstLine, exited } = startWorker({ mode: 'sessions', ...spec });
  const result = JSON.parse(await firstLine) as SessionsResult;
  return {
    result,
    async release() {
      child.stdin?.end('close\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
