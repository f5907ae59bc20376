import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { killProcessGroup, logTail } from '../../test/helpers/process-group.ts';

const READY = /^Gatehouse ready at (\S+)/m;

/**
 * The real gateway (`gatehouse start`) as a child process. It gets its own process group, so a
 * Ctrl-C in the terminal reaches only the demo, which then asks the gateway to drain and stop
 * its upstream children (SIGTERM) instead of every process dying at once.
 */
export class GatewayProcess {
  readonly #child: ChildProcess;
  readonly #logPath: string;
  #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #exited = false;
  readonly url: Promise<string>;

  private constructor(child: ChildProcess, logPath: string, readyTimeoutMs: number) {
    this.#child = child;
    this.#logPath = logPath;
    this.#exit = new Promise((resolve) => child.once('exit', (code, signal) => ((this.#exited = true), resolve({ code, signal }))));
    this.url = new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`the gateway did not report ready within ${readyTimeoutMs / 1000}s`)), readyTimeoutMs);
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        seen += chunk;
        const match = READY.exec(seen);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      });
      // The CLI reports a fatal start-up error as "gatehouse: …" on stderr; it may not exit
      // while upstream children are still running, so do not wait for the timeout.
      let errors = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        errors += chunk;
        const fatal = /^gatehouse(?: [a-z]+)?: (.+)$/m.exec(errors);
        if (fatal) {
          clearTimeout(timer);
          reject(new Error(`the gateway failed to start: ${fatal[1]}`));
        }
      });
      void this.#exit.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`the gateway exited before it was ready (${signal ?? `exit code ${code}`})`));
      });
    });
    this.url.catch(() => undefined);
  }

  /** Starts `node <cli> start --config <config>`, logging stdout and stderr to `logPath`. */
  static start(cli: string, args: string[], options: { cwd: string; logPath: string; readyTimeoutMs?: number }): GatewayProcess {
    const log = openSync(options.logPath, 'a');
    const child = spawn(process.execPath, [cli, 'start', ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const gateway = new GatewayProcess(child, options.logPath, options.readyTimeoutMs ?? 60_000);
    // Both streams go to the log file, after the watchers above have seen them.
    const append = (chunk: string) => writeSync(log, chunk);
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    child.once('close', () => closeSync(log));
    return gateway;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return !this.#exited;
  }

  /** Resolves when the process exits on its own or is stopped. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit;
  }

  /** SIGTERM (the gateway drains in-flight calls and stops its children); SIGKILL to the group after `graceMs`. */
  async stop(graceMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean }> {
    if (this.#exited) return { ...(await this.#exit), forced: false };
    this.#child.kill('SIGTERM');
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      this.killGroup();
    }, graceMs);
    const result = await this.#exit;
    clearTimeout(timer);
    return { ...result, forced };
  }

  /** Last resort (also used from a synchronous exit handler): kill the gateway's whole process group. */
  killGroup(): void {
    killProcessGroup(this.#child.pid);
  }

  /** The last lines of the gateway's log, for failure messages. */
  logTail(lines = 15): string {
    return logTail(this.#logPath, lines);
  }
}
