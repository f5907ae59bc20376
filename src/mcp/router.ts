import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ErrorCode, McpError, type Notification, type Request, type Result } from '@modelcontextprotocol/sdk/types.js';
import type { AuditLog } from '../audit/index.js';
import type { Connector } from '../connectors/index.js';
import { toRpcError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { CallContext, Operation, Pipeline } from '../pipeline/index.js';
import type { CallLimits } from '../ratelimit/index.js';
import { callContext, type RequestAuth } from './call-context.js';
import type { CatalogView } from './catalog-view.js';
import { RequestAudit } from './refusal-audit.js';
import { resolveOperation } from './resolve-operation.js';
import { createSdkServer, type RequestExtra } from './sdk-server.js';
import type { McpSession, SessionRegistry } from './session.js';

export type { RequestAuth } from './call-context.js';

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
  /** What a stateless retry that resumes a request waiting for the client's input runs through. */
  resumePipeline?: Pipeline | undefined;
  /** Per-user and per-client limits, taken for every request before it is resolved. */
  limits?: CallLimits | undefined;
  audit: AuditLog;
  log: Logger;
  /** Per-server switch: may client roots notifications be relayed upstream? */
  forwardRoots(server: string): boolean;
  isolation(server: string): 'shared' | 'per-user' | 'per-session' | undefined;
  /** `servers.<name>.tools.<tool>.pathArguments`, when configured. */
  pathArguments?(server: string, tool: string): readonly string[] | undefined;
}

/**
 * Turns MCP messages into operations and runs them through the pipeline. What upstreams send on
 * their own goes through the UpstreamRelay; refusals outside the pipeline are recorded by
 * RequestAudit.
 */
export class Router {
  /** JSON-RPC requests currently inside the pipeline (drained on shutdown). */
  inflight = 0;
  /** Set when shutdown begins: the front door takes no new work, in-flight calls finish. */
  draining = false;
  #drainWaiters: (() => void)[] = [];
  readonly #audit: RequestAudit;

  constructor(private readonly deps: RouterDeps) {
    this.#audit = new RequestAudit(deps.audit);
  }

  /** Writes the coalesced audit records still open (shutdown: before the audit log closes). */
  flushAudit(): void {
    this.#audit.flush();
  }

  /** The SDK Server for a new session. */
  createServer(getSession: () => McpSession | undefined): Server {
    const instructions = [...this.deps.connectors.values()]
      .map((c) => [c.name, c.instructions()] as const)
      .filter(([, text]) => text)
      .map(([name, text]) => `[${name}] ${text}`)
      .join('\n\n');
    return createSdkServer(getSession, {
      instructions,
      request: (session, request, extra) => this.handle(session, request, extra),
      notification: (session, notification) => this.#clientNotification(session, notification),
    });
  }

  async handle(session: McpSession, request: Request, extra: RequestExtra): Promise<Result> {
    const auth = extra.authInfo?.extra as RequestAuth | undefined;
    if (!auth) throw new McpError(ErrorCode.InvalidRequest, 'Unauthenticated');
    session.touch();
    session.inflight++;
    this.inflight++;
    const ctx = callContext(session, auth, request, extra);
    const resume = session.stateless ? session.transport.requestContext(extra.requestId)?.resume : undefined;
    try {
      // First, before any lookup, policy evaluation or audit record: is this user (or client
      // application) sending too much? Every request counts, known or not.
      await this.deps.limits?.takeRequest({ sub: auth.principal.sub, clientId: auth.principal.clientId });
      const op = await resolveOperation(
        this.deps.view,
        request,
        ctx.params,
        { sub: auth.principal.sub, sessionId: session.id },
        { pathArguments: this.deps.pathArguments },
      );
      (ctx as { op: Operation }).op = op;
      if (op.action === 'list') return await this.#runList(ctx);
      if (resume) {
        // Never the ordinary pipeline: that would send the waiting request upstream a second time.
        if (!this.deps.resumePipeline) throw new McpError(ErrorCode.InternalError, 'Gatehouse cannot resume this request');
        ctx.control.resume = resume;
        return await this.deps.resumePipeline(ctx);
      }
      if (op.method === 'resources/unsubscribe' && this.#subscribedElsewhere(session, op.server, op.name)) {
        // Another session on the same upstream instance still wants updates for this URI.
        ctx.control.keepUpstreamSubscription = true;
      }
      const result = await this.deps.pipeline(ctx);
      if (op.method === 'resources/subscribe') this.noteSubscription(session, op.server, op.name, true);
      if (op.method === 'resources/unsubscribe') this.noteSubscription(session, op.server, op.name, false);
      return result;
    } catch (error) {
      resume?.abandon('the retry was refused');
      if (!ctx.signal.aborted) this.#audit.failed(ctx, request.method, error);
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
    this.#audit.listed(ctx);
    return result;
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

  #clientNotification(session: McpSession, notification: Notification): void {
    if (notification.method !== 'notifications/roots/list_changed') return;
    for (const connector of this.deps.connectors.values()) {
      if (this.deps.forwardRoots(connector.name)) connector.notifySession?.(session.id, notification);
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
