import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ElicitResultSchema,
  ErrorCode,
  LoggingLevelSchema,
  McpError,
  ResultSchema,
  SetLevelRequestSchema,
  type LoggingLevel,
  type JSONRPCRequest,
  type Notification,
  type Request,
  type Result,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { AuditKind, type AuditLog, hashArguments, redactArguments } from '../audit/index.js';
import type { Connector, ConnectorOwner, CatalogKind } from '../connectors/index.js';
import type { UpstreamHooks, UpstreamInstance } from '../connectors/mcp-upstream/index.js';
import { GatehouseError, InvalidParamsError, isGatehouseError, MethodNotFoundError, RateLimitedError, RefusedError, RpcCode } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { describeCall, type CallContext, type Executor, type Operation, type Pipeline } from '../pipeline/index.js';
import type { CallLimits } from '../ratelimit/index.js';
import type { Principal } from '../tokens/index.js';
import { VERSION } from '../version.js';
import type { CatalogView } from './catalog-view.js';
import { CoalescedAudit } from './coalesced-audit.js';
import { qualify } from './naming.js';
import { normalizePathArguments, normalizeResourceUri } from '../policy/path-arguments.js';
import type { McpSession, SessionRegistry } from './session.js';
import { discoverResult, modernResult } from './stateless/index.js';

/** What the front door puts in `authInfo.extra` for every HTTP request it authenticated. */
export interface RequestAuth {
  principal: Principal;
  ip: string | undefined;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const SERVER_CAPABILITIES = {
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {},
};

/** Server→client request methods Gatehouse relays from upstreams (roots only where config allows). */
const RELAYED_SERVER_REQUESTS = new Set(['sampling/createMessage', 'elicitation/create', 'roots/list']);

/** The capability a client must have declared before a server→client request is relayed to it. */
/** Request methods the router answers; anything else is one bucket in coalesced audit records. */
const KNOWN_METHODS = new Set([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'tools/call',
  'prompts/get',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
]);
const LIST_METHODS = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']);

const CLIENT_CAPABILITY_FOR: Record<string, 'sampling' | 'elicitation' | 'roots' | undefined> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

export interface RouterDeps {
  connectors: ReadonlyMap<string, Connector>;
  view: CatalogView;
  sessions: SessionRegistry;
  pipeline: Pipeline;
  /**
   * What list requests run through. Their authorization is per item (the catalog view filters
   * what the principal may see), so they need no call stages; their audit is coalesced here.
   */
  listPipeline: Pipeline;
  /** Per-user and per-client limits, taken for every request before it is resolved. */
  limits?: CallLimits | undefined;
  audit: AuditLog;
  log: Logger;
  /** Per-server switch: may upstream roots requests be relayed? */
  forwardRoots(server: string): boolean;
  isolation(server: string): 'shared' | 'per-user' | 'per-session' | undefined;
  /** `servers.<name>.tools.<tool>.pathArguments`, when configured. */
  pathArguments?(server: string, tool: string): readonly string[] | undefined;
}

/**
 * Turns MCP messages into operations and runs them through the pipeline; routes what
 * upstreams send on their own (sampling, elicitation, notifications) to the right session.
 */
export class Router implements UpstreamHooks {
  /** JSON-RPC requests currently inside the pipeline (drained on shutdown). */
  inflight = 0;
  /** Set when shutdown begins: the front door takes no new work, in-flight calls finish. */
  draining = false;
  #drainWaiters: (() => void)[] = [];
  readonly #coalesced: CoalescedAudit;

  constructor(private readonly deps: RouterDeps) {
    this.#coalesced = new CoalescedAudit(deps.audit);
  }

  /** Writes the coalesced audit records still open (shutdown: before the audit log closes). */
  flushAudit(): void {
    this.#coalesced.flush();
  }

  /** The SDK Server for a new session: every request goes to `handle` through the fallback handler. */
  createServer(getSession: () => McpSession | undefined): Server {
    const instructions = [...this.deps.connectors.values()]
      .map((c) => [c.name, c.instructions()] as const)
      .filter(([, text]) => text)
      .map(([name, text]) => `[${name}] ${text}`)
      .join('\n\n');
    const server = new Server({ name: 'gatehouse', version: VERSION }, { capabilities: SERVER_CAPABILITIES, ...(instructions ? { instructions } : {}) });
    server.fallbackRequestHandler = async (request, extra) => {
      const session = getSession();
      if (!session) throw new McpError(ErrorCode.InvalidRequest, 'Session not found');
      if (session.stateless && request.method === 'server/discover') return modernResult(request.method, discoverResult(SERVER_CAPABILITIES, instructions));
      const result = await this.handle(session, request, extra as Extra);
      return session.stateless ? modernResult(request.method, result) : result;
    };
    // The session's minimum log level lives on the session (not inside the SDK Server), so
    // upstream log messages can be filtered here and sent on the stream of the call they
    // belong to — clients without a GET stream get them too.
    server.setRequestHandler(SetLevelRequestSchema, async (request) => {
      const session = getSession();
      if (session) session.logLevel = request.params.level;
      return {};
    });
    server.fallbackNotificationHandler = async (notification) => {
      const session = getSession();
      if (session) this.#clientNotification(session, notification);
    };
    return server;
  }

  /** Exported for the executor registry: the '*' pseudo-server that answers list requests. */
  readonly listExecutor: Executor = {
    execute: (ctx) => this.#list(ctx),
  };

  async handle(session: McpSession, request: Request, extra: Extra): Promise<Result> {
    const auth = extra.authInfo?.extra as RequestAuth | undefined;
    if (!auth) throw new McpError(ErrorCode.InvalidRequest, 'Unauthenticated');
    session.touch();
    session.inflight++;
    this.inflight++;
    const ctx = this.#context(session, auth, request, extra);
    try {
      // First, before any lookup, policy evaluation or audit record: is this user (or client
      // application) sending too much? Every request counts, known or not.
      await this.deps.limits?.takeRequest({ sub: auth.principal.sub, clientId: auth.principal.clientId });
      const op = await this.#resolve(session, auth.principal, request, ctx.params);
      (ctx as { op: Operation }).op = op;
      if (op.action === 'list') return await this.#runList(ctx);
      if (op.method === 'resources/unsubscribe' && this.#subscribedElsewhere(session, op.server, op.name)) {
        // Another session on the same upstream instance still wants updates for this URI.
        ctx.notes.keepUpstreamSubscription = true;
      }
      const result = await this.deps.pipeline(ctx);
      if (op.method === 'resources/subscribe') this.noteSubscription(session, op.server, op.name, true);
      if (op.method === 'resources/unsubscribe') this.noteSubscription(session, op.server, op.name, false);
      return result;
    } catch (error) {
      if (!ctx.signal.aborted) this.#auditFailure(ctx, request.method, error);
      throw toRpcError(error, this.deps.log, ctx.requestId);
    } finally {
      session.inflight--;
      if (--this.inflight === 0) for (const done of this.#drainWaiters.splice(0)) done();
    }
  }

  /** A list request: its own limit per user and method, the list pipeline, one coalesced record. */
  async #runList(ctx: CallContext): Promise<Result> {
    await this.deps.limits?.takeTarget({ sub: ctx.principal.sub, target: ctx.op.method });
    const result = await this.deps.listPipeline(ctx);
    this.#coalesced.record({
      kind: AuditKind.List,
      key: [ctx.origin.sessionId, ctx.principal.sub, ctx.op.method, 'ok'],
      body: { ...describeCall(ctx), outcome: { status: 'ok' }, latencyMs: Date.now() - ctx.startedAt },
    });
    return result;
  }

  /**
   * The record of a request that failed outside the pipeline (whose audit-outcome stage records
   * everything inside it). What costs nothing to cause — any failed list, any request over a
   * rate limit — is coalesced; other refusals (an unknown tool or method) get a record each,
   * and there are only as many of those as the rate limits let through.
   */
  #auditFailure(ctx: CallContext, method: string, error: unknown): void {
    const list = LIST_METHODS.has(method);
    // A resolved call went through the pipeline, whose audit-outcome stage recorded it.
    if (!list && ctx.op.server !== '') return;
    if (!list && !(error instanceof RateLimitedError)) {
      this.#auditRefusal(ctx, error);
      return;
    }
    const code = isGatehouseError(error) ? error.code : 'internal';
    const denied = error instanceof RefusedError;
    const bucket = KNOWN_METHODS.has(method) ? method : 'other';
    const { principal, origin } = ctx;
    this.#coalesced.record({
      kind: denied ? AuditKind.CallDenied : AuditKind.List,
      key: [origin.sessionId, principal.sub, bucket, code],
      body: {
        requestId: ctx.requestId,
        actor: { sub: principal.sub, groups: principal.groups, client: principal.clientId, session: origin.sessionId, ip: origin.ip, jti: principal.jti },
        method: bucket,
        ...(error instanceof RefusedError ? { decision: { effect: 'deny', reason: error.reason } } : {}),
        outcome: { status: denied ? 'denied' : 'error', code, message: (error as Error).message },
      },
    });
  }

  /** Resolves when no request is inside the pipeline, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#drainWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #context(session: McpSession, auth: RequestAuth, request: Request, extra: Extra): CallContext {
    const params = { ...(request.params ?? {}) } as Record<string, unknown>;
    const meta = params._meta as Record<string, unknown> | undefined;
    const progressToken = meta?.progressToken as string | number | undefined;
    if (meta && progressToken !== undefined) {
      // The SDK client substitutes its own token upstream and reports back through onprogress.
      const { progressToken: _dropped, ...rest } = meta;
      params._meta = rest;
    }
    return {
      requestId: randomUUID(),
      rpcId: extra.requestId,
      principal: auth.principal,
      origin: { sessionId: session.id, ip: auth.ip, clientName: session.clientName, protocolVersion: session.protocolVersion },
      // Replaced by #resolve; server '' marks a request that never resolved to an operation.
      op: { method: request.method, action: 'call', kind: 'server', server: '', name: '', id: '', args: undefined },
      params,
      signal: extra.signal,
      startedAt: Date.now(),
      progress:
        progressToken === undefined
          ? undefined
          : (update) => {
              void extra.sendNotification({ method: 'notifications/progress', params: { progressToken, ...update } }).catch(() => undefined);
            },
      client: {
        get elicitation() {
          const declared = session.server.getClientCapabilities()?.elicitation;
          return { form: declared?.form !== undefined, url: declared?.url !== undefined };
        },
        elicit: (params, options) =>
          extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema, { signal: options.signal, timeout: options.timeoutMs }),
        elicitationComplete: (elicitationId) => extra.sendNotification({ method: 'notifications/elicitation/complete', params: { elicitationId } }),
      },
      decision: undefined,
      intentSeq: undefined,
      notes: {},
    };
  }

  /** Maps a JSON-RPC request onto an operation, rewriting exposed names to upstream names in `params`. */
  async #resolve(session: McpSession, principal: Principal, request: Request, params: Record<string, unknown>): Promise<Operation> {
    const owner: ConnectorOwner = { sub: principal.sub, sessionId: session.id };
    const method = request.method;
    switch (method) {
      case 'tools/list':
      case 'prompts/list':
      case 'resources/list':
      case 'resources/templates/list':
        return { method, action: 'list', kind: 'server', server: '*', name: method, id: method, args: undefined };
      case 'tools/call': {
        const name = requireString(params.name, 'name');
        const resolved = await this.deps.view.resolveTool(name, owner);
        if (!resolved) throw new InvalidParamsError('mcp.unknown_tool', `Unknown tool: ${name}`);
        const given = (params.arguments ?? {}) as Record<string, unknown>;
        if (typeof given !== 'object' || given === null || Array.isArray(given))
          throw new InvalidParamsError('mcp.invalid_arguments', 'Tool arguments must be an object.');
        // Paths in their one canonical spelling before the token, validation or any policy looks
        // at them; the normalised arguments are also what goes upstream.
        const args = normalizePathArguments(given, {
          configured: this.deps.pathArguments?.(resolved.server, resolved.tool.name),
          inputSchema: resolved.tool.inputSchema,
        });
        if (args !== given) params.arguments = args;
        params.name = resolved.tool.name;
        return {
          method,
          action: 'call',
          kind: 'tool',
          server: resolved.server,
          name: resolved.tool.name,
          id: qualify(resolved.server, resolved.tool.name),
          args,
          annotations: resolved.annotations,
          inputSchema: resolved.tool.inputSchema,
        };
      }
      case 'prompts/get': {
        const name = requireString(params.name, 'name');
        const resolved = await this.deps.view.resolvePrompt(name, owner);
        if (!resolved) throw new InvalidParamsError('mcp.unknown_prompt', `Unknown prompt: ${name}`);
        const given = (params.arguments ?? {}) as Record<string, unknown>;
        const args = typeof given === 'object' && given !== null && !Array.isArray(given) ? normalizePathArguments(given, {}) : given;
        if (args !== given) params.arguments = args;
        params.name = resolved.name;
        return { method, action: 'get', kind: 'prompt', server: resolved.server, name: resolved.name, id: qualify(resolved.server, resolved.name), args };
      }
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const uri = normalizeResourceUri(requireString(params.uri, 'uri'));
        params.uri = uri;
        const server = await this.#resourceServer(uri, owner);
        return { method, action: 'read', kind: 'resource', server, name: uri, id: uri, args: undefined };
      }
      case 'completion/complete': {
        const ref = params.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
        const args = { argument: params.argument, context: params.context } as Record<string, unknown>;
        if (ref?.type === 'ref/prompt') {
          const name = requireString(ref.name, 'ref.name');
          const resolved = await this.deps.view.resolvePrompt(name, owner);
          if (!resolved) throw new InvalidParamsError('mcp.unknown_prompt', `Unknown prompt: ${name}`);
          params.ref = { ...ref, name: resolved.name };
          return { method, action: 'get', kind: 'prompt', server: resolved.server, name: resolved.name, id: qualify(resolved.server, resolved.name), args };
        }
        if (ref?.type === 'ref/resource') {
          const uri = normalizeResourceUri(requireString(ref.uri, 'ref.uri'));
          if (uri !== ref.uri) params.ref = { ...ref, uri };
          const server = await this.#resourceServer(uri, owner);
          return { method, action: 'read', kind: 'resource', server, name: uri, id: uri, args };
        }
        throw new InvalidParamsError('mcp.invalid_params', 'completion/complete needs a ref of type ref/prompt or ref/resource.');
      }
      default:
        // Default deny: a method Gatehouse does not know is never forwarded.
        throw new MethodNotFoundError(method);
    }
  }

  async #resourceServer(uri: string, owner: ConnectorOwner): Promise<string> {
    const found = await this.deps.view.resolveResource(uri, owner);
    if (found === 'ambiguous') throw new GatehouseError('mcp.ambiguous_resource', 'More than one server claims this resource URI.', 400, RpcCode.InvalidParams);
    if (!found) throw new GatehouseError('mcp.unknown_resource', `Resource not found: ${uri}`, 404, RpcCode.ResourceNotFound, { data: { uri } });
    return found.server;
  }

  async #list(ctx: CallContext): Promise<Result> {
    const owner = { sub: ctx.principal.sub, sessionId: ctx.origin.sessionId };
    const { view } = this.deps;
    switch (ctx.op.method) {
      case 'tools/list':
        return { tools: await view.tools(ctx.principal, owner) };
      case 'prompts/list':
        return { prompts: await view.prompts(ctx.principal, owner) };
      case 'resources/list':
        return { resources: await view.resources(ctx.principal, owner) };
      case 'resources/templates/list':
        return { resourceTemplates: await view.resourceTemplates(ctx.principal, owner) };
      default:
        throw new MethodNotFoundError(ctx.op.method);
    }
  }

  /** Requests refused before they became an operation (unknown method, tool or resource) still leave a record. */
  #auditRefusal(ctx: CallContext, error: unknown): void {
    const { principal, origin } = ctx;
    const args = ctx.params.arguments;
    void this.deps.audit.append(
      AuditKind.CallDenied,
      {
        requestId: ctx.requestId,
        actor: { sub: principal.sub, groups: principal.groups, client: principal.clientId, session: origin.sessionId, ip: origin.ip, jti: principal.jti },
        method: ctx.op.method,
        target: typeof ctx.params.name === 'string' ? { tool: ctx.params.name } : typeof ctx.params.uri === 'string' ? { resource: ctx.params.uri } : {},
        ...(args !== undefined ? { args: redactArguments(args), argsHash: hashArguments(args) } : {}),
        decision: { effect: 'deny', reason: isGatehouseError(error) ? error.code : 'internal' },
        outcome: { status: 'denied', code: isGatehouseError(error) ? error.code : 'internal', message: (error as Error).message },
        latencyMs: Date.now() - ctx.startedAt,
      },
      { durable: false },
    );
  }

  #clientNotification(session: McpSession, notification: Notification): void {
    if (notification.method !== 'notifications/roots/list_changed') return;
    for (const connector of this.deps.connectors.values()) {
      if (!this.deps.forwardRoots(connector.name) || !('pool' in connector)) continue;
      for (const instance of (connector as unknown as { pool: { instances: Map<string, UpstreamInstance> } }).pool.instances.values()) {
        if (instance.sessions.has(session.id)) void instance.notify(notification).catch(() => undefined);
      }
    }
  }

  // ---- UpstreamHooks: traffic an upstream starts on its own ----

  /**
   * The session a message from `instance` belongs to: the only session with calls in flight on
   * it, or — for an instance that serves a single user or session — its most recent session.
   * A shared instance with several active sessions cannot be attributed, and nothing is sent.
   */
  #attribute(instance: UpstreamInstance): { session: McpSession; relatedRequestId?: string | number } | undefined {
    if (instance.inflight.size === 1) {
      const [[sessionId, ids]] = [...instance.inflight.entries()] as [[string, (string | number)[]]];
      const session = this.deps.sessions.get(sessionId);
      if (session) return { session, relatedRequestId: ids[ids.length - 1] };
    }
    if (instance.inflight.size === 0 && instance.key !== '*') {
      const session = [...instance.sessions]
        .map((id) => this.deps.sessions.get(id))
        .filter((s): s is McpSession => s !== undefined)
        .sort((a, b) => b.recency - a.recency)[0];
      if (session) return { session };
    }
    return undefined;
  }

  async onServerRequest(instance: UpstreamInstance, request: JSONRPCRequest, signal: AbortSignal): Promise<Result> {
    if (!RELAYED_SERVER_REQUESTS.has(request.method) || (request.method === 'roots/list' && !this.deps.forwardRoots(instance.server))) {
      throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${request.method}`);
    }
    const target = this.#attribute(instance);
    if (!target) {
      this.deps.log.warn({ server: instance.server, method: request.method }, 'upstream request could not be attributed to a single session; refused');
      throw new McpError(ErrorCode.InternalError, 'Gatehouse cannot attribute this request to a single client session.');
    }
    const { session, relatedRequestId } = target;
    const capability = CLIENT_CAPABILITY_FOR[request.method];
    if (capability && !session.server.getClientCapabilities()?.[capability]) {
      throw new JsonRpcError(ErrorCode.MethodNotFound, `The client does not support ${request.method}.`);
    }
    void this.deps.audit.append(
      'upstream.request',
      { actor: { sub: session.sub, session: session.id, client: session.clientId }, method: request.method, target: { server: instance.server } },
      { durable: false },
    );
    try {
      return await session.server.request({ method: request.method, params: request.params } as ServerRequest, ResultSchema, {
        signal,
        ...(relatedRequestId !== undefined ? { relatedRequestId } : {}),
        timeout: 10 * 60_000,
      });
    } catch (error) {
      // The client's own error, passed on as it is (an McpError's message carries an
      // "MCP error <code>: " prefix the upstream's SDK would add a second time).
      if (error instanceof McpError)
        throw new JsonRpcError(error.code, error.message.replace(/^MCP error -?\d+: /, ''), error.data as Record<string, unknown> | undefined);
      throw new JsonRpcError(ErrorCode.InternalError, `The client did not answer ${request.method}.`);
    }
  }

  onNotification(instance: UpstreamInstance, notification: Notification): void {
    const sessionsOf = () => [...instance.sessions].map((id) => this.deps.sessions.get(id)).filter((s): s is McpSession => s !== undefined);
    switch (notification.method) {
      case 'notifications/resources/updated': {
        const uri = (notification.params as { uri?: unknown } | undefined)?.uri;
        if (typeof uri !== 'string') return;
        for (const session of sessionsOf()) {
          if (session.subscriptions.get(instance.server)?.has(uri)) void session.server.sendResourceUpdated({ uri }).catch(() => undefined);
        }
        return;
      }
      case 'notifications/message': {
        const target = this.#attribute(instance);
        const params = notification.params as Parameters<Server['sendLoggingMessage']>[0];
        const logger = typeof params?.logger === 'string' ? `${instance.server}/${params.logger}` : instance.server;
        const recipients = target ? [target.session] : instance.key === '*' ? [] : sessionsOf();
        for (const session of recipients) {
          if (!wantsLevel(session.logLevel, params.level)) continue;
          const related = target?.session === session ? target.relatedRequestId : undefined;
          void session.server
            .notification({ method: 'notifications/message', params: { ...params, logger } }, related !== undefined ? { relatedRequestId: related } : undefined)
            .catch(() => undefined);
        }
        return;
      }
      default:
        this.deps.log.debug({ server: instance.server, method: notification.method }, 'upstream notification not relayed');
    }
  }

  onCatalogChanged(instance: UpstreamInstance, kind: CatalogKind): void {
    const recipients = instance.key === '*' ? [...this.deps.sessions.values()] : [...instance.sessions].map((id) => this.deps.sessions.get(id));
    for (const session of recipients) {
      if (!session || session.closed) continue;
      const server = session.server;
      const send =
        kind === 'tools'
          ? server.sendToolListChanged()
          : kind === 'prompts'
            ? server.sendPromptListChanged()
            : kind === 'resources'
              ? server.sendResourceListChanged()
              : undefined;
      void send?.catch(() => undefined);
    }
  }

  #subscribedElsewhere(session: McpSession, server: string, uri: string): boolean {
    const isolation = this.deps.isolation(server);
    if (isolation === 'per-session') return false;
    for (const other of this.deps.sessions.values()) {
      if (other === session || (isolation === 'per-user' && other.sub !== session.sub)) continue;
      if (other.subscriptions.get(server)?.has(uri)) return true;
    }
    return false;
  }

  /** After a successful (un)subscribe, keep the session's subscription set in step. */
  noteSubscription(session: McpSession, server: string, uri: string, subscribed: boolean): void {
    let set = session.subscriptions.get(server);
    if (subscribed) {
      if (!set) session.subscriptions.set(server, (set = new Set()));
      set.add(uri);
    } else set?.delete(uri);
  }
}

const SEVERITY = LoggingLevelSchema.options;

/** logging/setLevel: messages below the session's level are not sent (all are, until it sets one). */
function wantsLevel(minimum: LoggingLevel | undefined, level: LoggingLevel): boolean {
  return minimum === undefined || SEVERITY.indexOf(level) >= SEVERITY.indexOf(minimum);
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidParamsError('mcp.invalid_params', `"${field}" must be a non-empty string.`);
  return value;
}

/**
 * What the SDK turns into a JSON-RPC error object: numeric `code`, `message` and `data` taken
 * as they are (McpError would prefix the message with "MCP error <code>:").
 */
export class JsonRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * Errors reach the client as JSON-RPC errors with the safe message and the stable Gatehouse
 * code in `data.code`; details stay in the log.
 */
export function toRpcError(error: unknown, log: Logger, requestId: string): Error {
  if (error instanceof McpError || error instanceof JsonRpcError) return error;
  if (isGatehouseError(error)) {
    if (error.detail) log.warn({ requestId, code: error.code, detail: error.detail }, error.message);
    return new JsonRpcError(error.rpcCode, error.message, { code: error.code, ...error.data });
  }
  if ((error as Error)?.name === 'AbortError') return new JsonRpcError(RpcCode.RequestTimeout, 'Request cancelled', { code: 'request.cancelled' });
  log.error({ requestId, err: error }, 'unexpected error handling request');
  return new JsonRpcError(ErrorCode.InternalError, 'Internal error', { code: 'internal', requestId });
}
