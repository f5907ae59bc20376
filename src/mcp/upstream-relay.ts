import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ErrorCode,
  LoggingLevelSchema,
  McpError,
  ResultSchema,
  type JSONRPCRequest,
  type LoggingLevel,
  type Notification,
  type Result,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { AuditKind, namedActor, type AuditLog } from '../audit/index.js';
import type { CatalogKind } from '../connectors/index.js';
import type { ChildExit, InstanceState, UpstreamHooks, UpstreamInstance } from '../connectors/mcp-upstream/index.js';
import { JsonRpcError, relayedClientError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { McpSession, SessionRegistry } from './session.js';

/** Server→client request methods Gatehouse relays from upstreams (roots only where config allows). */
const RELAYED_SERVER_REQUESTS = new Set(['sampling/createMessage', 'elicitation/create', 'roots/list']);

/** The capability a client must have declared before a server→client request is relayed to it. */
const CLIENT_CAPABILITY_FOR: Record<string, 'sampling' | 'elicitation' | 'roots' | undefined> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

export interface UpstreamRelayDeps {
  sessions: SessionRegistry;
  audit: AuditLog;
  log: Logger;
  /** Per-server switch: may upstream roots requests be relayed? */
  forwardRoots(server: string): boolean;
}

/**
 * Traffic an upstream starts on its own — sampling, elicitation and roots requests, log
 * messages, resource updates, catalog changes — routed to the client session it belongs to.
 */
export class UpstreamRelay implements UpstreamHooks {
  constructor(private readonly deps: UpstreamRelayDeps) {}

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
    // A stateless client declares capabilities per request: its transport checks the request's own.
    if (capability && !session.stateless && !session.server.getClientCapabilities()?.[capability]) {
      throw new JsonRpcError(ErrorCode.MethodNotFound, `The client does not support ${request.method}.`);
    }
    void this.deps.audit.append(
      AuditKind.UpstreamRequest,
      { actor: namedActor(session.sub, { session: session.id, client: session.clientId }), method: request.method, target: { server: instance.server } },
      { durable: false },
    );
    try {
      return await session.server.request({ method: request.method, params: request.params } as ServerRequest, ResultSchema, {
        signal,
        ...(relatedRequestId !== undefined ? { relatedRequestId } : {}),
        timeout: 10 * 60_000,
      });
    } catch (error) {
      throw relayedClientError(error, request.method);
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

  /** An upstream that exited and is being restarted leaves a record (the restart itself is in the log and /readyz). */
  onStateChanged(instance: UpstreamInstance, state: InstanceState, exit?: ChildExit): void {
    if (state === 'restarting' && exit) {
      void this.deps.audit.append(
        AuditKind.UpstreamExit,
        { target: { server: instance.server }, exit: { code: exit.code, signal: exit.signal } },
        { durable: false },
      );
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
}

const SEVERITY = LoggingLevelSchema.options;

/** logging/setLevel: messages below the session's level are not sent (all are, until it sets one). */
function wantsLevel(minimum: LoggingLevel | undefined, level: LoggingLevel): boolean {
  return minimum === undefined || SEVERITY.indexOf(level) >= SEVERITY.indexOf(minimum);
}
