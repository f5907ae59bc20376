import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { withChildHardening } from '../../hardening/index.js';

export interface ChildSpec {
  command: string;
  args: string[];
  /** The child's entire environment; nothing of the gateway's is inherited. */
  env: Record<string, string>;
  cwd: string;
  /** Largest single message accepted from the child. */
  maxMessageBytes: number;
  /**
   * Bytes written to the child's file descriptor 3 and closed: bubblewrap reads the sandboxed
   * program's environment there (`--args 3`), so it is in neither bubblewrap's environment nor
   * its command line, which other processes of the same user can read.
   */
  fd3?: Buffer;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * MCP stdio transport for one child process. Unlike the SDK's StdioClientTransport, which
 * always passes HOME, USER, SHELL, LOGNAME and TERM through, the child gets exactly the
 * environment in `spec.env` — credentials of the gateway never reach it by inheritance.
 * Framing (newline-delimited JSON-RPC) is the SDK's ReadBuffer/serializeMessage.
 */
export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Called once per complete stderr line. */
  onstderr?: (line: string) => void;
  /** Called when the process exits, before `onclose`. */
  onexit?: (exit: ChildExit) => void;
  /**
   * Set when the gateway ended the child itself because a message exceeded
   * `maxMessageBytes`: newline-delimited framing cannot skip a message it cannot hold.
   */
  closeReason: 'message_too_large' | undefined;

  #child: ChildProcess | undefined;
  #buffer: ReadBuffer;
  #closing = false;

  constructor(private readonly spec: ChildSpec) {
    this.#buffer = new ReadBuffer({ maxBufferSize: spec.maxMessageBytes });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): Promise<void> {
    if (this.#child) throw new Error('ChildProcessTransport already started');
    return new Promise((resolve, reject) => {
      const child = spawn(this.spec.command, this.spec.args, {
        // Non-dumpable from its first instruction when the preload library is built (see hardening/).
        env: withChildHardening(this.spec.command, this.spec.env),
        cwd: this.spec.cwd,
        stdio: this.spec.fd3 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
        shell: false,
        windowsHide: true,
      });
      this.#child = child;
      if (this.spec.fd3) {
        const fd3 = child.stdio[3] as NodeJS.WritableStream | null;
        fd3?.on('error', () => undefined);
        fd3?.end(this.spec.fd3);
      }
      child.once('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once('spawn', () => resolve());
      child.once('exit', (code, signal) => this.onexit?.({ code, signal }));
      child.once('close', () => {
        this.#child = undefined;
        this.onclose?.();
      });
      child.stdin?.on('error', (error) => {
        if (!this.#closing) this.onerror?.(error);
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        try {
          this.#buffer.append(chunk);
        } catch (error) {
          this.closeReason = 'message_too_large';
          this.onerror?.(error as Error);
          void this.close();
          return;
        }
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.#buffer.readMessage();
          } catch (error) {
            // A malformed line: report it and keep reading the next one.
            this.onerror?.(error as Error);
            continue;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      });
      if (child.stderr) {
        const lines = createInterface({ input: child.stderr, crlfDelay: Infinity });
        lines.on('line', (line) => this.onstderr?.(line));
      }
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(new Error('upstream process is not running'));
    return new Promise((resolve, reject) => {
      const ok = stdin.write(serializeMessage(message), (error) => (error ? reject(error) : undefined));
      if (ok) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** Ends stdin, then escalates to SIGTERM and SIGKILL if the child lingers. */
  async close(graceMs = 2000): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#closing = true;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const waitFor = (ms: number) => Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    child.stdin?.end();
    if (await waitFor(graceMs)) return;
    child.kill('SIGTERM');
    if (await waitFor(graceMs)) return;
    child.kill('SIGKILL');
    await waitFor(graceMs);
  }

  /** Immediate SIGKILL (shutdown after the drain deadline). */
  kill(): void {
    this.#child?.kill('SIGKILL');
  }
}
