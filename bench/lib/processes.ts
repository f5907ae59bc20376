import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { killProcessGroup, logTail } from '../../test/helpers/process-group.ts';

/**
 * A server under test, in its own process group: stopping it (SIGTERM, then SIGKILL to the
 * group) also reaches the children it started, and nothing else on the machine.
 */
export class ServerProcess {
  readonly name: string;
  readonly logPath: string;
  readonly #child: ChildProcess;
  readonly #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exited = false;
  #stdout = '';
  #stdoutListeners: (() => void)[] = [];

  constructor(name: string, command: string, args: string[], options: { cwd: string; logPath: string; env?: NodeJS.ProcessEnv }) {
    this.name = name;
    this.logPath = options.logPath;
    const log = openSync(options.logPath, 'w');
    this.#child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.#exit = new Promise((resolve) => this.#child.once('exit', (code, signal) => ((this.#exited = true), resolve({ code, signal }))));
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      writeSync(log, chunk);
      if (this.#stdout.length < 64 * 1024) this.#stdout += chunk;
      for (const listener of this.#stdoutListeners) listener();
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => writeSync(log, chunk));
    this.#child.once('close', () => closeSync(log));
  }

  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) throw new Error(`${this.name} has no pid (did it fail to spawn?)`);
    return pid;
  }

  get running(): boolean {
    return !this.#exited;
  }

  /** Waits for a stdout line matching `pattern`; fails early if the process exits. */
  waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(this.#stdout);
        if (match) {
          done();
          resolve(match);
        }
      };
      const timer = setTimeout(
        () => (done(), reject(new Error(`${this.name}: no ${pattern} on stdout within ${timeoutMs / 1000}s\n${this.logTail()}`))),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        this.#stdoutListeners = this.#stdoutListeners.filter((l) => l !== check);
      };
      this.#stdoutListeners.push(check);
      void this.#exit.then(({ code, signal }) => {
        done();
        reject(new Error(`${this.name} exited (${signal ?? `code ${code}`}) before it was ready\n${this.logTail()}`));
      });
      check();
    });
  }

  /** SIGTERM (graceful: the gateway drains and stops its children), then SIGKILL for the group. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.#exited) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.killGroup(), graceMs);
      await this.#exit;
      clearTimeout(timer);
    }
    // Whatever the leader left behind in its group (a child that ignored stdin closing).
    this.killGroup();
  }

  killGroup(): void {
    killProcessGroup(this.#child.pid);
  }

  logTail(lines = 10): string {
    return logTail(this.logPath, lines);
  }
}

export { freePort } from '../../dist/util/free-port.js';

/** Polls `initialize` until the endpoint answers 200, then ends that session. */
export async function waitForMcp(url: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench-probe', version: '1' } },
        }),
      });
      await res.text();
      if (res.status === 200) {
        const sid = res.headers.get('mcp-session-id');
        if (sid)
          await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': sid, ...headers } })
            .then((r) => r.text())
            .catch(() => undefined);
        return;
      }
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer initialize within ${timeoutMs / 1000}s (${last})`);
}

/**
 * Resident and peak resident memory of one process (Linux /proc), and the resident memory
 * split into file-backed pages (mostly the node binary's text, the same for every Node process)
 * and anonymous pages (heaps, typed arrays, wasm memory: what the program itself allocated).
 */
export function memoryOf(pid: number): { rssBytes: number; hwmBytes: number; anonBytes: number; fileBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM'), anonBytes: kb('RssAnon'), fileBytes: kb('RssFile') };
}

/** USER_HZ: /proc reports CPU time in these ticks (100 on every mainstream Linux). */
const TICKS_PER_SECOND = 100;

function statOf(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state ppid … utime(14) stime(15), counted from 1 over the whole line.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by `pid` alone (all its threads). */
export function cpuSecondsOf(pid: number): number {
  return (statOf(pid)?.ticks ?? NaN) / TICKS_PER_SECOND;
}

/** CPU seconds used so far by `pid` and all its descendants (children such as upstream servers). */
export function cpuSecondsOfTree(pid: number): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (!stat) continue;
    ticks.set(Number(entry), stat.ticks);
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  let total = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop() as number;
    total += ticks.get(next) ?? 0;
    queue.push(...(children.get(next) ?? []));
  }
  return total / TICKS_PER_SECOND;
}
