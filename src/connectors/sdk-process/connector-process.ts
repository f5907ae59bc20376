import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { withChildHardening } from '../../hardening/index.js';
import type { Logger } from '../../log/index.js';
import type { SpawnTarget, WrappedTarget } from '../../sandbox/index.js';
import { encodeFrame, FrameDecoder } from '../sdk/frame.js';
import {
  FromConnectorSchema,
  type CallMessage,
  type CredentialRequest,
  type FetchRequest,
  type FromConnector,
  type ToConnector,
  type ToolDeclaration,
} from '../sdk/messages.js';

/** What the gateway answers a running call's requests with (the call's own credentials and egress). */
export interface CallServices {
  credential(request: CredentialRequest): Promise<ToConnector>;
  fetch: (request: FetchRequest) => Promise<ToConnector>;
  log(message: Extract<FromConnector, { type: 'log' }>): void;
}

export type CallOutcome = Extract<FromConnector, { type: 'result' }>;

export class ConnectorProcessError extends Error {
  constructor(
    readonly code: 'connector.unavailable' | 'connector.crashed' | 'connector.protocol' | 'connector.timeout',
    message: string,
  ) {
    super(message);
  }
}

export interface ConnectorProcessOptions {
  server: string;
  log: Logger;
  /** Built at each spawn (bubblewrap or plain node). */
  target: () => SpawnTarget | WrappedTarget;
  startupTimeoutMs: number;
  restartBackoffInitialMs: number;
  restartBackoffMaxMs: number;
  /** A process that stayed up this long resets the backoff. */
  stableAfterMs?: number;
}

type State = 'stopped' | 'starting' | 'ready' | 'backoff' | 'closed';

interface InFlight {
  resolve: (outcome: CallOutcome) => void;
  reject: (error: Error) => void;
  services: CallServices;
}

/**
 * One connector's process and its framed channel. Messages from the process are validated and
 * bounded; requests are honoured only for calls in flight in this process, with that call's
 * services (so a connector reaches nothing outside the call it is serving). A crash fails the
 * calls in flight, and the process is started again after a doubling delay.
 */
export class ConnectorProcess {
  state: State = 'stopped';
  tools: ToolDeclaration[] = [];
  restarts = 0;
  lastError: string | undefined;
  /** Called with the tool list every time a process announces it (the first start and every restart). */
  onReady: ((tools: ToolDeclaration[]) => void) | undefined;
  #child: ChildProcess | undefined;
  #calls = new Map<string, InFlight>();
  #ready: Promise<void> | undefined;
  #backoffMs: number;
  #restartTimer: NodeJS.Timeout | undefined;
  #startedAt = 0;

  constructor(private readonly options: ConnectorProcessOptions) {
    this.#backoffMs = options.restartBackoffInitialMs;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process (if not running) and waits for its tool list. */
  start(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new ConnectorProcessError('connector.unavailable', 'the connector is stopped'));
    this.#ready ??= this.#spawn().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** One call; past `timeoutMs` it is cancelled in the process and fails with connector.timeout. */
  async call(message: CallMessage, services: CallServices, signal: AbortSignal, timeoutMs = 60_000): Promise<CallOutcome> {
    if (this.state !== 'ready') {
      if (this.state === 'backoff') throw new ConnectorProcessError('connector.unavailable', `connector ${this.options.server} is restarting`);
      await this.start();
    }
    const child = this.#child;
    if (!child) throw new ConnectorProcessError('connector.unavailable', `connector ${this.options.server} is not running`);
    return new Promise<CallOutcome>((resolve, reject) => {
      const onAbort = () => this.#send({ type: 'cancel', id: message.id });
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => {
        onAbort();
        this.#calls
          .get(message.id)
          ?.reject(new ConnectorProcessError('connector.timeout', `connector ${this.options.server} did not answer in ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#calls.delete(message.id);
      };
      this.#calls.set(message.id, {
        services,
        resolve: (o) => {
          done();
          resolve(o);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.#send(message);
    });
  }

  async stop(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  /** Immediate SIGKILL of the current process (tests and shutdown). */
  kill(): void {
    this.#child?.kill('SIGKILL');
  }

  #send(message: ToConnector): void {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed) return;
    stdin.write(encodeFrame(message));
  }

  #spawn(): Promise<void> {
    const { server, log } = this.options;
    this.state = 'starting';
    const target = this.options.target();
    const fd3 = 'fd3' in target ? target.fd3 : undefined;
    const env = 'fd3' in target ? target.env : {};
    const child = spawn(target.command, target.args, {
      cwd: target.cwd,
      env: withChildHardening(target.command, env),
      stdio: fd3 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
      shell: false,
    });
    this.#child = child;
    if (fd3) {
      const pipe = child.stdio[3] as NodeJS.WritableStream | null;
      pipe?.on('error', () => undefined);
      pipe?.end(fd3);
    }
    child.stdin?.on('error', () => undefined);
    if (child.stderr) {
      const lines = createInterface({ input: child.stderr, crlfDelay: Infinity });
      lines.on('line', (line) => log.info({ server, pid: child.pid, stream: 'stderr' }, line.slice(0, 4096)));
    }
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => {
        settle(new ConnectorProcessError('connector.timeout', `connector ${server} did not announce its tools in time`));
        child.kill('SIGKILL');
      }, this.options.startupTimeoutMs);
      const decoder = new FrameDecoder();
      const protocolError = (why: string) => {
        this.lastError = why;
        log.error({ server, pid: child.pid }, `connector channel closed: ${why}`);
        settle(new ConnectorProcessError('connector.protocol', `connector ${server}: ${why}`));
        child.kill('SIGKILL');
      };
      child.stdout?.on('data', (chunk: Buffer) => {
        let messages: unknown[];
        try {
          messages = decoder.push(chunk);
        } catch (error) {
          protocolError((error as Error).message);
          return;
        }
        for (const raw of messages) {
          const parsed = FromConnectorSchema.safeParse(raw);
          if (!parsed.success) {
            protocolError(`malformed message (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`);
            return;
          }
          const message = parsed.data;
          if (message.type === 'hello') {
            if (this.state !== 'starting') return protocolError('a second hello');
            this.tools = message.tools;
            this.state = 'ready';
            this.#startedAt = Date.now();
            try {
              this.onReady?.(message.tools);
            } catch (error) {
              this.lastError = (error as Error).message;
              log.error({ server, err: (error as Error).message }, 'connector tools refused');
            }
            log.info({ server, pid: child.pid, tools: message.tools.length }, 'connector ready');
            settle();
          } else if (message.type === 'fatal') {
            this.lastError = message.message;
            log.error({ server, pid: child.pid }, `connector failed to load: ${message.message}`);
            settle(new ConnectorProcessError('connector.unavailable', `connector ${server} failed to load: ${message.message}`));
          } else this.#dispatch(message);
        }
      });
      child.once('error', (error) => settle(new ConnectorProcessError('connector.unavailable', `connector ${server} could not start: ${error.message}`)));
      child.once('exit', (code, signal) => {
        settle(new ConnectorProcessError('connector.unavailable', `connector ${server} exited during start (${signal ?? code})`));
        this.#onExit(child, code, signal);
      });
    });
  }

  #dispatch(message: Exclude<FromConnector, { type: 'hello' | 'fatal' }>): void {
    if (message.type === 'result') {
      this.#calls.get(message.id)?.resolve(message);
      return;
    }
    // A request names the call it serves; one not in flight in this process gets nothing.
    const call = message.call ? this.#calls.get(message.call) : undefined;
    if (message.type === 'log') {
      if (call) call.services.log(message);
      else this.options.log.info({ server: this.options.server, connectorLog: message.level }, message.message);
      return;
    }
    if (!call) {
      const type = message.type === 'credential' ? 'credential.result' : 'fetch.result';
      this.#send({ type, id: message.id, ok: false, error: { code: 'connector.no_call', message: 'no call in progress with that id' } } as ToConnector);
      return;
    }
    const answer = message.type === 'credential' ? call.services.credential(message) : call.services.fetch(message);
    answer.then(
      (reply) => this.#send(reply),
      (error: unknown) => {
        const type = message.type === 'credential' ? 'credential.result' : 'fetch.result';
        this.#send({
          type,
          id: message.id,
          ok: false,
          error: { code: 'connector.request_failed', message: String((error as Error)?.message ?? error).slice(0, 2048) },
        } as ToConnector);
      },
    );
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    this.#ready = undefined;
    const { server, log } = this.options;
    for (const [, call] of this.#calls) call.reject(new ConnectorProcessError('connector.crashed', `connector ${server} exited while handling the call`));
    this.#calls.clear();
    if (this.state === 'closed') return;
    if (this.#startedAt && Date.now() - this.#startedAt > (this.options.stableAfterMs ?? 60_000)) this.#backoffMs = this.options.restartBackoffInitialMs;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.options.restartBackoffMaxMs);
    this.state = 'backoff';
    this.lastError = `exited (${signal ?? code})`;
    log.warn({ server, code, signal, restartInMs: delay }, 'connector process exited; restarting after backoff');
    this.#restartTimer = setTimeout(() => {
      if (this.state !== 'backoff') return;
      this.restarts++;
      this.start().catch((error: unknown) => log.error({ server, err: (error as Error).message }, 'connector restart failed'));
    }, delay);
    this.#restartTimer.unref();
  }
}
