import { sandboxPreloadArgs } from '../../hardening/index.js';
import { resolve as pathResolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientCapabilities, JSONRPCRequest, Notification, Request, Result, ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { McpServerConfig } from '../../config/index.js';
import { isStdioServer } from '../../config/index.js';
import { UpstreamError, RpcCode } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { wrapCommand, type UpstreamSandbox } from '../../sandbox/index.js';
import { VERSION } from '../../version.js';
import { emptyCatalog, fetchCatalogPart, fetchStatelessCatalogPart, type Catalog, type CatalogKind } from './catalog.js';
import { ChildProcessTransport, type ChildExit, type ChildSpec } from './child-process-transport.js';

type ChildSpecInput = Omit<ChildSpec, 'maxMessageBytes'>;
import { createLimitedFetch, ResponseTooLargeError } from './limited-fetch.js';
import { EgressGuard, type EgressBlockedEvent, type Resolver } from '../../egress/index.js';
import { OrderedTransport } from './ordered-transport.js';
import { StatelessUpstreamClient } from './stateless-client.js';
import { MODERN_VERSION } from '../../protocol/revision.js';

/** Per request: what Gatehouse declares for its caller to a stateless upstream, and the tool's schema for its headers. */
export interface UpstreamRequestOptions extends RequestOptions {
  /** The capabilities declared in `_meta` to a 2026-07-28 upstream (default: everything Gatehouse can relay). */
  clientCapabilities?: ClientCapabilities | undefined;
  /** tools/call: the tool's input schema, for the `Mcp-Param-*` headers of a 2026-07-28 upstream. */
  inputSchema?: unknown;
}

/** Which MCP era an instance speaks to its upstream: the session era, or the stateless 2026-07-28 revision. */
export type UpstreamEra = '2025' | '2026';

export type InstanceState = 'idle' | 'starting' | 'ready' | 'restarting' | 'stopped';

/** Everything an upstream instance needs from the gateway, injected so it stays testable. */
export interface UpstreamEnvironment {
  log: Logger;
  /**
   * Resolves `${VAR}` references in a config value, and `vault:NAME` references in `env` and
   * `headers` values; `where` names the key (`servers.x.env.API_KEY`) for errors and for the
   * vault's "used by" record.
   */
  resolveValue(value: string, where: string): string | Promise<string>;
  /** The gateway's own PATH, the one variable a stdio child inherits. */
  path: string | undefined;
  baseDir: string;
  maxResponseBytes: number;
  requestTimeoutMs: number;
  startupTimeoutMs: number;
  restartBackoffInitialMs: number;
  restartBackoffMaxMs: number;
  /** Outbound rules for remote upstreams: global host list and where refusals are reported. */
  egress?: { allow: readonly string[]; onBlocked?: ((event: EgressBlockedEvent) => void) | undefined; resolve?: Resolver | undefined } | undefined;
  /** Stdio servers: the sandbox decided at start; absent means spawned unconfined (tests of other parts). */
  sandbox?: UpstreamSandbox | undefined;
}

/** How an instance reports what its upstream does, to whoever routes it (src/mcp). */
export interface UpstreamHooks {
  /** A server→client request (sampling, elicitation, roots) to deliver to the right client. */
  onServerRequest(instance: UpstreamInstance, request: JSONRPCRequest, signal: AbortSignal): Promise<Result>;
  onNotification(instance: UpstreamInstance, notification: Notification): void;
  onCatalogChanged(instance: UpstreamInstance, kind: CatalogKind): void;
  /** Required, so a router cannot silently drop state changes (an exit is an audit record). */
  onStateChanged(instance: UpstreamInstance, state: InstanceState, exit?: ChildExit): void;
}

/**
 * One live connection to an upstream MCP server: a child process (stdio) or a Streamable
 * HTTP session (remote), wrapped in the SDK Client. Crashes restart with exponential backoff;
 * the tool/resource/prompt catalog is cached and refreshed on list_changed.
 */
export class UpstreamInstance {
  state: InstanceState = 'idle';
  catalog: Catalog = emptyCatalog();
  instructions: string | undefined;
  /** Sessions currently attached to this instance (for routing upstream-initiated traffic). */
  readonly sessions = new Set<string>();
  /** In-flight downstream JSON-RPC ids per session, to attribute upstream-initiated requests. */
  readonly inflight = new Map<string, (string | number)[]>();
  restarts = 0;
  lastExit: ChildExit | undefined;
  /** Decided at each (re)start: `server/discover` (or `servers.<name>.protocol`) says which era the upstream speaks. */
  era: UpstreamEra | undefined;

  #client: Client | undefined;
  /** Set instead of #client when the upstream speaks the stateless revision. */
  #stateless: { client: StatelessUpstreamClient; capabilities: Record<string, unknown> } | undefined;
  #transport: OrderedTransport | undefined;
  #ready: Promise<void> | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #backoff: number;
  #startedAt = 0;
  #closeFetch: (() => Promise<void>) | undefined;
  #readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(
    readonly server: string,
    /** Isolation key: '*' (shared), a user's sub, or a session id. */
    readonly key: string,
    private readonly config: McpServerConfig,
    private readonly env: UpstreamEnvironment,
    private readonly hooks: UpstreamHooks,
  ) {
    this.#backoff = env.restartBackoffInitialMs;
  }

  get pid(): number | undefined {
    const inner = this.#transport?.inner;
    return inner instanceof ChildProcessTransport ? inner.pid : undefined;
  }

  get serverCapabilities() {
    return this.#stateless ? (this.#stateless.capabilities as ReturnType<Client['getServerCapabilities']>) : this.#client?.getServerCapabilities();
  }

  /** Starts the upstream (once); resolves when it is initialized and its catalog loaded. */
  start(): Promise<void> {
    if (this.state === 'stopped') return Promise.reject(this.#unavailable('stopped'));
    if (!this.#ready) {
      this.#ready = this.#connect();
      this.#ready.catch(() => undefined);
    }
    return this.#ready;
  }

  /** Waits until the instance can take calls (including through a restart), up to `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    if (this.state === 'ready') return;
    if (this.state === 'idle') return this.start();
    if (this.state === 'stopped') throw this.#unavailable('stopped');
    if (this.state === 'starting' && this.#ready) return this.#ready;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#readyWaiters = this.#readyWaiters.filter((w) => w.resolve !== done);
        reject(this.#unavailable('restarting'));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#readyWaiters.push({
        resolve: done,
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  async #connect(): Promise<void> {
    this.#setState('starting');
    const client = new Client({ name: 'gatehouse', version: VERSION }, { capabilities: this.#clientCapabilities() });
    client.fallbackRequestHandler = async (request, extra) =>
      this.hooks.onServerRequest(this, { jsonrpc: '2.0', id: extra.requestId, method: request.method, params: request.params }, extra.signal);
    client.fallbackNotificationHandler = async (notification) => this.#onNotification(notification);
    client.onerror = (error) => this.env.log.debug({ server: this.server, err: error.message }, 'upstream transport error');

    const startup = AbortSignal.timeout(this.env.startupTimeoutMs);
    try {
      // Credentials (`${VAR}`, `vault:NAME`) are resolved here, at each (re)start: a secret added
      // or rotated in the vault is picked up by the next start without restarting the gateway.
      const remote = isStdioServer(this.config) ? undefined : await this.#remote();
      if (remote && (await this.#connectStateless(remote, startup))) return this.#becameReady();
      this.era = '2025';
      const transport = new OrderedTransport(await this.#createTransport(remote));
      this.#transport = transport;
      this.#client = client;
      await client.connect(transport, { signal: startup, timeout: this.env.startupTimeoutMs });
      transport.onclose = chain(transport.onclose, () => this.#onClosed());
      this.instructions = client.getInstructions();
      await this.#loadCatalog(['tools', 'resources', 'resourceTemplates', 'prompts']);
    } catch (error) {
      this.env.log.error({ server: this.server, key: this.key, err: (error as Error).message }, 'upstream failed to start');
      await this.#teardown();
      this.#scheduleRestart();
      throw this.#unavailable('failed to start');
    }
    this.#becameReady();
  }

  /**
   * The era of a remote upstream (cached for this instance until it restarts): the stateless
   * revision when `server/discover` lists it (`protocol: auto`) or when configured (`2026`).
   * True when the upstream is now driven statelessly and its catalog is loaded.
   */
  async #connectStateless(remote: RemoteParts, startup: AbortSignal): Promise<boolean> {
    if (isStdioServer(this.config) || this.config.protocol === '2025') return false;
    const protocol = this.config.protocol;
    const client = new StatelessUpstreamClient(remote.url, remote.headers, remote.fetch, { name: 'gatehouse', version: VERSION });
    // A server that answers anything but a DiscoverResult (an error, a page, no JSON-RPC) is of
    // the session era; one that cannot be reached at all (refused by the egress guard, down)
    // fails this start once, rather than a second time in the other era.
    const discovered = await client.discover(this.env.startupTimeoutMs, startup);
    if (!discovered?.supportedVersions.includes(MODERN_VERSION)) {
      if (protocol === '2026') throw new Error(`server/discover does not list ${MODERN_VERSION}`);
      this.env.log.debug({ server: this.server }, 'upstream does not speak the stateless revision; using the session era');
      return false;
    }
    this.era = '2026';
    this.#stateless = { client, capabilities: discovered.capabilities };
    this.instructions = discovered.instructions;
    const next = { ...this.catalog };
    for (const kind of ['tools', 'resources', 'resourceTemplates', 'prompts'] as const) {
      (next as Record<CatalogKind, unknown>)[kind] = await fetchStatelessCatalogPart(discovered.capabilities, kind, (method, params) =>
        client.request(method, params, { capabilities: this.#clientCapabilities(), timeoutMs: this.env.requestTimeoutMs, signal: startup }),
      );
    }
    this.catalog = next;
    return true;
  }

  #becameReady(): void {
    this.#startedAt = Date.now();
    this.#setState('ready');
    this.env.log.info({ server: this.server, key: this.key, pid: this.pid, tools: this.catalog.tools.length }, 'upstream ready');
    for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve();
  }

  #clientCapabilities(): ClientCapabilities {
    const caps: ClientCapabilities = { sampling: {}, elicitation: { form: {}, url: {} } };
    if (this.config.forwardRoots) caps.roots = { listChanged: true };
    return caps;
  }

  async #createTransport(remote: RemoteParts | undefined): Promise<Transport> {
    const where = `servers.${this.server}`;
    if (isStdioServer(this.config) || !remote) {
      if (!isStdioServer(this.config)) throw new Error('a remote upstream needs its connection parts');
      // The child's environment is its own object: exactly its configured variables plus PATH.
      // A vault secret lands here and in the child, never in the gateway's process.env.
      const env: Record<string, string> = {};
      if (this.env.path !== undefined) env.PATH = this.env.path;
      for (const [name, value] of Object.entries(this.config.env)) env[name] = await this.env.resolveValue(value, `${where}.env.${name}`);
      const args: string[] = [];
      for (const [i, arg] of this.config.args.entries()) args.push(await this.env.resolveValue(arg, `${where}.args[${i}]`));
      const target = {
        command: await this.env.resolveValue(this.config.command, `${where}.command`),
        args,
        cwd: this.config.cwd ? pathResolve(this.env.baseDir, await this.env.resolveValue(this.config.cwd, `${where}.cwd`)) : this.env.baseDir,
      };
      const sandbox = this.env.sandbox;
      let spawn: ChildSpecInput = { ...target, env };
      if (sandbox) {
        const wrapped = wrapCommand(target, sandbox.decision, {
          searchPath: env.PATH,
          home: sandbox.home,
          protect: sandbox.protect,
          cwdGranted: this.config.cwd !== undefined,
          // bubblewrap itself must stay dumpable; the program inside it is made non-dumpable.
          innerArgs: sandboxPreloadArgs(env),
          env,
          egress: sandbox.egress,
        });
        spawn = 'fd3' in wrapped ? wrapped : { ...wrapped, env };
      }
      const transport = new ChildProcessTransport({ ...spawn, maxMessageBytes: this.env.maxResponseBytes });
      transport.onstderr = (line) => this.env.log.info({ server: this.server, pid: transport.pid, stream: 'stderr' }, line);
      transport.onexit = (exit) => {
        this.lastExit = exit;
      };
      return transport;
    }
    // Only the configured headers go upstream: the agent's own token is never forwarded
    // (MCP Authorization: token passthrough is forbidden).
    return new StreamableHTTPClientTransport(remote.url, {
      requestInit: { headers: remote.headers },
      fetch: remote.fetch,
    });
  }

  /** A remote upstream's address, configured headers and guarded, size-limited fetch (resolved at each start). */
  async #remote(): Promise<RemoteParts> {
    if (isStdioServer(this.config)) throw new Error('not a remote upstream');
    const where = `servers.${this.server}`;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.config.headers)) headers[name] = await this.env.resolveValue(value, `${where}.headers.${name}`);
    const url = new URL(await this.env.resolveValue(this.config.url, `${where}.url`));
    const limited = createLimitedFetch({
      guard: new EgressGuard({
        purpose: `mcp server ${this.server}`,
        allowHosts: [url.hostname, ...this.config.egress.allow, ...(this.env.egress?.allow ?? [])],
        allowAddresses: this.config.egress.allowAddresses,
        resolve: this.env.egress?.resolve,
        onBlocked: this.env.egress?.onBlocked,
      }),
      credentialHeaders: Object.keys(this.config.headers),
      dangerouslyAllowInsecureTls: this.config.egress.dangerouslyAllowInsecureTls,
      maxResponseBytes: this.env.maxResponseBytes,
      connectTimeoutMs: 10_000,
      headersTimeoutMs: this.env.requestTimeoutMs,
      bodyTimeoutMs: 5 * 60_000,
      onLimitExceeded: (ids) => {
        this.env.log.warn(
          { server: this.server, key: this.key, limit: this.env.maxResponseBytes },
          'upstream response exceeded the size limit; request refused',
        );
        // Answer the cut-off requests now rather than letting them wait for their timeout.
        for (const id of ids) {
          this.#transport?.inject({ jsonrpc: '2.0', id, error: { code: RpcCode.UpstreamError, message: 'response too large', data: { [TOO_LARGE]: true } } });
        }
      },
    });
    this.#closeFetch = limited.close;
    return { url, headers, fetch: limited.fetch };
  }

  async #loadCatalog(kinds: CatalogKind[]): Promise<void> {
    if (this.#stateless) return;
    const client = this.#client;
    if (!client) return;
    const next = { ...this.catalog };
    for (const kind of kinds) {
      (next as Record<CatalogKind, unknown>)[kind] = await fetchCatalogPart(client, kind, this.env.requestTimeoutMs);
    }
    this.catalog = next;
  }

  #onNotification(notification: Notification): void {
    const kind = LIST_CHANGED[notification.method];
    if (kind) {
      const kinds: CatalogKind[] = kind === 'resources' ? ['resources', 'resourceTemplates'] : [kind];
      this.#loadCatalog(kinds).then(
        () => {
          for (const k of kinds) this.hooks.onCatalogChanged(this, k);
        },
        (error: unknown) => this.env.log.warn({ server: this.server, err: (error as Error).message }, 'catalog refresh failed'),
      );
      return;
    }
    this.hooks.onNotification(this, notification);
  }

  #onClosed(): void {
    if (this.state === 'stopped') return;
    const exit = this.lastExit;
    if (closedForSize(this.#transport)) {
      this.env.log.warn({ server: this.server, key: this.key, limit: this.env.maxResponseBytes }, 'upstream sent a message over the size limit; restarting it');
    } else {
      this.env.log.warn({ server: this.server, key: this.key, code: exit?.code, signal: exit?.signal }, 'upstream exited unexpectedly');
    }
    this.#client = undefined;
    this.#transport = undefined;
    this.#ready = undefined;
    if (Date.now() - this.#startedAt > 60_000) this.#backoff = this.env.restartBackoffInitialMs;
    this.#setState('restarting', exit);
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (this.state === 'stopped' || this.#restartTimer) return;
    if (this.state !== 'restarting') this.#setState('restarting');
    const delay = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, this.env.restartBackoffMaxMs);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.restarts++;
      this.#ready = this.#connect();
      this.#ready.catch(() => undefined);
    }, delay);
    this.#restartTimer.unref();
  }

  #setState(state: InstanceState, exit?: ChildExit): void {
    this.state = state;
    this.hooks.onStateChanged(this, state, exit);
  }

  /**
   * Sends a request upstream. SDK errors become typed Gatehouse errors: an upstream's own
   * JSON-RPC error keeps its code and message; a dead connection becomes `upstream.crashed`.
   */
  async request<S extends z.ZodType<Result>>(request: Request, resultSchema: S, options: UpstreamRequestOptions = {}): Promise<z.infer<S>> {
    if (this.state !== 'ready') await this.ready(Math.min(this.env.startupTimeoutMs, 10_000));
    const { clientCapabilities: _declared, inputSchema: _schema, ...sdkOptions } = options;
    const stateless = this.#stateless;
    if (stateless) return this.#requestStateless(stateless.client, request, resultSchema, options);
    const client = this.#client;
    const transport = this.#transport;
    if (!client) throw this.#unavailable('restarting');
    try {
      return await client.request(request as never, resultSchema, {
        timeout: this.env.requestTimeoutMs,
        resetTimeoutOnProgress: true,
        ...sdkOptions,
      });
    } catch (error) {
      throw this.#mapError(error, transport);
    }
  }

  /**
   * A request to a stateless upstream. An `input_required` result is returned as it is (the
   * caller decides how the client answers it); any other result must have its method's shape.
   */
  async #requestStateless<S extends z.ZodType<Result>>(
    client: StatelessUpstreamClient,
    request: Request,
    resultSchema: S,
    options: UpstreamRequestOptions,
  ): Promise<z.infer<S>> {
    try {
      const result = await client.request(request.method, request.params as Record<string, unknown> | undefined, {
        capabilities: options.clientCapabilities ?? this.#clientCapabilities(),
        timeoutMs: options.timeout ?? this.env.requestTimeoutMs,
        signal: options.signal,
        inputSchema: options.inputSchema,
        onprogress: options.onprogress,
        onnotification: (notification) => this.#onNotification(notification),
      });
      if (result.resultType === 'input_required') return result as z.infer<S>;
      const parsed = resultSchema.safeParse(result);
      if (!parsed.success) throw new McpError(-32603, `Invalid result for ${request.method}: ${parsed.error.message.slice(0, 200)}`);
      return parsed.data;
    } catch (error) {
      throw this.#mapError(error, undefined);
    }
  }

  async notify(notification: Notification): Promise<void> {
    // The stateless revision has no client notifications to pass on (roots changes travel with each request).
    await this.#client?.notification(notification as ServerNotification as never);
  }

  #mapError(error: unknown, transport: OrderedTransport | undefined): Error {
    const tooLarge = () =>
      new UpstreamError(
        'upstream.response_too_large',
        `The upstream server "${this.server}" sent a response larger than the gateway accepts (${this.env.maxResponseBytes} bytes).`,
        {
          rpcCode: RpcCode.UpstreamError,
        },
      );
    if (error instanceof ResponseTooLargeError) return tooLarge();
    if (error instanceof McpError) {
      if ((error.data as Record<PropertyKey, unknown> | undefined)?.[TOO_LARGE] === true) return tooLarge();
      if (error.code === -32000 && /closed/i.test(error.message)) {
        if (closedForSize(transport)) return tooLarge();
        return new UpstreamError('upstream.crashed', `The upstream server "${this.server}" stopped while handling the request.`, {
          rpcCode: RpcCode.UpstreamUnavailable,
        });
      }
      if (error.code === RpcCode.RequestTimeout) {
        return new UpstreamError('upstream.timeout', `The upstream server "${this.server}" did not answer in time.`, { rpcCode: RpcCode.RequestTimeout });
      }
      // The upstream's own error: keep its code; the SDK prefixes "MCP error <code>: ".
      return new UpstreamError('upstream.error', error.message.replace(/^MCP error -?\d+: /, ''), {
        rpcCode: error.code,
        data: error.data as Record<string, unknown> | undefined,
      });
    }
    if ((error as Error).name === 'AbortError') return error as Error;
    return new UpstreamError('upstream.failed', `The upstream server "${this.server}" failed to handle the request.`, {
      detail: { error: (error as Error).message },
    });
  }

  #unavailable(why: string): UpstreamError {
    return new UpstreamError('upstream.unavailable', `The upstream server "${this.server}" is unavailable (${why}).`, { rpcCode: RpcCode.UpstreamUnavailable });
  }

  async #teardown(): Promise<void> {
    const transport = this.#transport;
    this.#stateless = undefined;
    this.#client = undefined;
    this.#transport = undefined;
    if (transport) {
      transport.onclose = undefined;
      await transport.close().catch(() => undefined);
    }
    await this.#closeFetch?.().catch(() => undefined);
    this.#closeFetch = undefined;
  }

  /** Stops for good: no restart. Pending requests fail with `upstream.crashed`. */
  async stop(): Promise<void> {
    this.#setState('stopped');
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(this.#unavailable('stopped'));
    const client = this.#client;
    await this.#teardown();
    await client?.close().catch(() => undefined);
  }
}

/** A remote upstream's connection parts, resolved at each start. */
interface RemoteParts {
  url: URL;
  headers: Record<string, string>;
  fetch: FetchLike;
}

/** Marks the error answer the gateway itself gives a request whose response was cut off (an upstream cannot forge a symbol). */
const TOO_LARGE = Symbol('gatehouse.response_too_large');

function closedForSize(transport: OrderedTransport | undefined): boolean {
  return transport?.inner instanceof ChildProcessTransport && transport.inner.closeReason === 'message_too_large';
}

const LIST_CHANGED: Record<string, CatalogKind | undefined> = {
  'notifications/tools/list_changed': 'tools',
  'notifications/resources/list_changed': 'resources',
  'notifications/prompts/list_changed': 'prompts',
};

function chain(first: (() => void) | undefined, second: () => void): () => void {
  return () => {
    first?.();
    second();
  };
}
