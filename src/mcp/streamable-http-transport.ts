import type { ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  LoggingLevelSchema,
  type LoggingLevel,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { OutputRefusedError, outboundChannel, sanitizer as processSanitizer, type Sanitizer } from '../sanitize/index.js';
import type { StatelessInputSink, StatelessRequestContext } from './stateless/input-required.js';
import { responseStatus } from '../http/unavailable-status.js';
import type { ListenHub } from './stateless/listen.js';
import { ModernRpcCode } from '../protocol/revision.js';

/** Where an HTTP exchange's answer goes: a plain body, or an event stream opened on demand. */
export interface ReplyChannel {
  /** Ends the exchange with one body (JSON, or empty for 202). */
  body(status: number, body: string | null, headers: Record<string, string>): void;
  /** Switches the exchange to an SSE stream. */
  openStream(headers: Record<string, string>): EventStream;
}

export interface EventStream {
  /** Writes one SSE event; false once the client has gone. */
  write(data: string): boolean;
  comment(text: string): void;
  end(): void;
  readonly closed: boolean;
  onClose(listener: () => void): void;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' };
const KEEPALIVE_MS = 25_000;
/** How many of the credentials recently presented on a session are scrubbed from what it receives. */
const REMEMBERED_CREDENTIALS = 4;
const WITHHELD = { code: -32603, message: 'Gatehouse withheld a message it could not check for credentials.', data: { code: 'sanitize.failed' } };

const SEVERITY: readonly string[] = LoggingLevelSchema.options;
/** Whether a log message's level is at or above `minimum` (an unknown level is not). */
function atOrAbove(level: unknown, minimum: LoggingLevel): boolean {
  return typeof level === 'string' && SEVERITY.includes(level) && SEVERITY.indexOf(level) >= SEVERITY.indexOf(minimum);
}

/** One POST's worth of requests waiting for their responses. */
class Exchange {
  readonly outstanding: Set<RequestId>;
  readonly buffered: JSONRPCMessage[] = [];
  stream: EventStream | undefined;
  done = false;
  keepAlive: NodeJS.Timeout | undefined;

  constructor(
    ids: RequestId[],
    readonly batch: boolean,
    readonly reply: ReplyChannel,
    readonly headers: Record<string, string>,
    /** Stateless requests: the log level the request asked for; none means no log messages. */
    readonly logLevel?: LoggingLevel,
  ) {
    this.outstanding = new Set(ids);
  }
}

/**
 * The server side of MCP Streamable HTTP for one session, as an SDK `Transport` (the SDK
 * Server still does initialize, ping, cancellation and request correlation on top of it).
 *
 * Each POST picks its answer format as late as possible: if the response is the only thing
 * that ever goes back, it is sent as `application/json`; the moment a notification or a
 * server→client request (progress, sampling, elicitation) must go out first, the exchange
 * becomes a `text/event-stream`. Both are allowed by the spec (the client accepts both) and
 * the common case avoids stream machinery entirely. State is a map of in-flight request ids
 * and at most one standalone GET stream — nothing that cannot be rebuilt on another node.
 */
/** Why a server→client request cannot reach a stateless client. */
const STATELESS_NO_REQUESTS = { code: -32601, message: 'The client speaks a protocol revision without server-to-client requests' };

export class StreamableHttpTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  readonly #exchanges = new Map<RequestId, Exchange>();
  /** The method of each request awaiting its response (the sanitizer's channel for the response). */
  readonly #methods = new Map<RequestId, string>();
  /** Access tokens the session's recent HTTP requests carried (bearer or DPoP-bound), newest first. */
  #credentials: string[] = [];
  #standalone: EventStream | undefined;
  #standaloneKeepAlive: NodeJS.Timeout | undefined;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  /**
   * Stateless (2026-07-28) transports serve many independent POSTs of one caller, whose clients
   * choose request ids without knowing of each other: each request runs under an id of ours and
   * its response goes back under the client's own. Internal id → the client's id.
   */
  readonly #aliases = new Map<RequestId, RequestId>();
  #nextAlias = 0;
  /** Stateless: the per-request facts (binding, declared capabilities, resume claim) by internal id. */
  readonly #contexts = new Map<RequestId, StatelessRequestContext>();
  /** Stateless: where server→client requests go instead (multi-round-trip results). */
  inputSink: StatelessInputSink | undefined;
  /** Stateless: the caller's open `subscriptions/listen` streams, which take the place of the GET stream. */
  listen: ListenHub | undefined;

  constructor(
    readonly sessionId: string,
    /** Every message to the client passes through it, whatever produced it and however it travels. */
    private readonly sanitizer: Sanitizer = processSanitizer,
    /** No session id goes to the client, and request ids are Gatehouse's own (see #aliases). */
    private readonly stateless = false,
  ) {}

  /** Remembers the credentials an HTTP request of this session presented (see `send`). */
  #remember(credentials: readonly string[]): void {
    if (credentials.length === 0) return;
    const fresh = credentials.filter((c) => !this.#credentials.includes(c));
    if (fresh.length === 0) return;
    this.#credentials = [...fresh, ...this.#credentials].slice(0, REMEMBERED_CREDENTIALS);
  }

  async start(): Promise<void> {}

  get closed(): boolean {
    return this.#closed;
  }

  /** Requests accepted whose response has not been written yet. */
  get pendingRequests(): number {
    return this.#exchanges.size;
  }

  /**
   * Resolves once every request accepted so far has had its response written. Shutdown waits
   * on this rather than on the handlers: a handler returns a moment before the SDK hands its
   * response to the transport, and closing in between would answer "Session closed".
   */
  whenIdle(): Promise<void> {
    if (this.#exchanges.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #notifyIfIdle(): void {
    if (this.#exchanges.size === 0) for (const done of this.#idleWaiters.splice(0)) done();
  }

  /**
   * Hands a POST's validated messages to the protocol layer. Requests answer through `reply`
   * once their responses are sent; a POST of only notifications/responses gets 202.
   */
  acceptPost(
    received: JSONRPCMessage[],
    batch: boolean,
    reply: ReplyChannel,
    authInfo: AuthInfo | undefined,
    credentials: readonly string[] = [],
    context?: StatelessRequestContext & { logLevel?: LoggingLevel },
  ): void {
    this.#remember(credentials);
    const headers: Record<string, string> = this.stateless ? {} : { 'mcp-session-id': this.sessionId };
    const messages = this.stateless ? received.map((m) => this.#alias(m)) : received;
    if (context && this.stateless && messages.length === 1 && isJSONRPCRequest(messages[0])) this.#contexts.set(messages[0].id, context);
    const ids: RequestId[] = [];
    for (const message of messages) if (isJSONRPCRequest(message)) ids.push(message.id);
    const duplicate = ids.find((id, i) => this.#exchanges.has(id) || ids.indexOf(id) !== i);
    if (duplicate !== undefined) {
      reply.body(
        400,
        JSON.stringify({ jsonrpc: '2.0', id: duplicate, error: { code: -32600, message: `Request id ${JSON.stringify(duplicate)} is already in use` } }),
        { 'content-type': 'application/json', ...headers },
      );
      return;
    }
    if (ids.length === 0) {
      reply.body(202, null, headers);
    } else {
      const exchange = new Exchange(ids, batch, reply, headers, context?.logLevel);
      for (const id of ids) this.#exchanges.set(id, exchange);
      for (const message of messages) if (isJSONRPCRequest(message)) this.#methods.set(message.id, message.method);
    }
    const extra: MessageExtraInfo = authInfo ? { authInfo } : {};
    const cancellations = () => {
      for (const message of messages) {
        if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
          const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
          if (requestId !== undefined) this.#abandon(requestId);
        }
      }
    };
    if (messages.length === 1) {
      this.onmessage?.(messages[0] as JSONRPCMessage, extra);
      cancellations();
      return;
    }
    // A batch is handed over one message per turn of the event loop, so other connections
    // (health checks, other sessions) are served in between however the batch was composed.
    void (async () => {
      for (const message of messages) {
        if (this.#closed) return;
        this.onmessage?.(message, extra);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      cancellations();
    })();
  }

  /** The facts the front door recorded for a stateless request still being handled. */
  requestContext(id: RequestId): StatelessRequestContext | undefined {
    return this.#contexts.get(id);
  }

  /** A stateless request under an id of ours, remembering the client's. */
  #alias(message: JSONRPCMessage): JSONRPCMessage {
    if (!isJSONRPCRequest(message)) return message;
    const internal = `gatehouse-${++this.#nextAlias}`;
    this.#aliases.set(internal, message.id);
    return { ...message, id: internal };
  }

  /** The response as the client must see it: under the id it chose. */
  #unalias<T extends { id?: unknown }>(message: T): T {
    if (!this.stateless) return message;
    const original = this.#aliases.get(message.id as RequestId);
    if (original === undefined) return message;
    this.#aliases.delete(message.id as RequestId);
    return { ...message, id: original };
  }

  /**
   * MCP cancellation: the receiver of a cancelled request sends no response. Stop waiting for
   * one, so the POST that carried the request ends (an empty event stream) instead of hanging
   * until the session closes, and shutdown does not wait for it.
   */
  #abandon(id: RequestId): void {
    const exchange = this.#exchanges.get(id);
    if (!exchange) return;
    this.#exchanges.delete(id);
    this.#methods.delete(id);
    this.#aliases.delete(id);
    this.#contexts.delete(id);
    exchange.outstanding.delete(id);
    if (exchange.outstanding.size === 0 && !exchange.done) {
      if (exchange.stream) this.#finish(exchange);
      else if (exchange.buffered.length > 0) {
        exchange.done = true;
        exchange.reply.body(200, JSON.stringify(exchange.buffered), { 'content-type': 'application/json', ...exchange.headers });
      } else {
        exchange.done = true;
        exchange.reply.openStream({ ...SSE_HEADERS, ...exchange.headers }).end();
      }
    }
    this.#notifyIfIdle();
  }

  /** Opens the session's standalone GET stream (at most one: MCP transports §listening). */
  openStandalone(reply: ReplyChannel, credentials: readonly string[] = []): boolean {
    if (this.#standalone && !this.#standalone.closed) return false;
    this.#remember(credentials);
    const stream = reply.openStream({ ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
    this.#standalone = stream;
    this.#standaloneKeepAlive = setInterval(() => stream.comment('keep-alive'), KEEPALIVE_MS);
    this.#standaloneKeepAlive.unref();
    stream.onClose(() => {
      if (this.#standalone === stream) {
        clearInterval(this.#standaloneKeepAlive);
        this.#standalone = undefined;
      }
    });
    return true;
  }

  /**
   * The exit point: every message to the client — responses, errors, notifications, requests,
   * on a JSON body or an event stream — goes through the sanitizer here, with the credentials
   * this session presented. A message that cannot be checked is not sent: a response becomes
   * an error, a request to the client fails back to its sender, a notification is dropped.
   */
  #outbound(message: JSONRPCMessage): JSONRPCMessage | undefined {
    const channel = outboundChannel(message, (id) => this.#methods.get(id));
    try {
      return this.sanitizer.sanitize(message, channel, { credentials: this.#credentials });
    } catch (error) {
      // A `deny` rule says so (types only, never values); anything else could not be checked.
      const withheld =
        error instanceof OutputRefusedError ? { code: error.rpcCode, message: error.message, data: { code: error.code, ...error.data } } : WITHHELD;
      if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) return { jsonrpc: '2.0', id: message.id as RequestId, error: withheld };
      if (isJSONRPCRequest(message)) queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id: message.id, error: withheld }));
      return undefined;
    }
  }

  async send(original: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) return;
    const checked = this.#outbound(original);
    if (checked === undefined) return;
    if (isJSONRPCResultResponse(checked) || isJSONRPCErrorResponse(checked)) {
      const id = checked.id as RequestId;
      const message = this.#unalias(checked);
      const exchange = this.#exchanges.get(id);
      this.#contexts.delete(id);
      // A response for a request nobody waits for any more: the client went away, or its
      // exchange already ended with an InputRequiredResult and a retry is to receive it.
      if (!exchange) {
        if (this.stateless) this.inputSink?.lateResponse(this, checked);
        return;
      }
      if (this.stateless) this.inputSink?.responded(this, checked);
      this.#exchanges.delete(id);
      this.#methods.delete(id);
      exchange.outstanding.delete(id);
      if (exchange.stream) {
        exchange.stream.write(JSON.stringify(message));
        if (exchange.outstanding.size === 0) this.#finish(exchange);
      } else {
        exchange.buffered.push(message);
        if (exchange.outstanding.size === 0) {
          exchange.done = true;
          const body = exchange.batch ? JSON.stringify(exchange.buffered) : JSON.stringify(exchange.buffered[0]);
          const { status, headers } = responseStatus(exchange.buffered, exchange.batch);
          // The stateless revision answers a missing client capability (an upstream's verdict, passed on) with HTTP 400.
          const missingCapability =
            this.stateless && !exchange.batch && isJSONRPCErrorResponse(message) && message.error.code === ModernRpcCode.MissingRequiredClientCapability;
          exchange.reply.body(missingCapability ? 400 : status, body, { 'content-type': 'application/json', ...exchange.headers, ...headers });
        }
      }
      this.#notifyIfIdle();
      return;
    }
    const message = checked;
    if (this.stateless && isJSONRPCRequest(message)) {
      // The stateless revision has no server→client requests on a stream (streamable-http
      // §sending-messages: MUST NOT). The request travels in an InputRequiredResult when it
      // belongs to a request that may have one; otherwise it fails back to whoever sent it.
      if (this.inputSink?.serverRequest(this, message, options?.relatedRequestId)) return;
      queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id: message.id, error: STATELESS_NO_REQUESTS }));
      return;
    }
    // A notification or server→client request: on its request's stream when it has one.
    const related = options?.relatedRequestId;
    const exchange = related === undefined ? undefined : this.#exchanges.get(related);
    // The stateless revision sends log messages only for a request that asked for them, at or
    // above the level it named (there is no logging/setLevel, and no stream outside a request).
    if (this.stateless && isJSONRPCNotification(message) && message.method === 'notifications/message') {
      const level = (message.params as { level?: unknown } | undefined)?.level;
      if (exchange?.logLevel === undefined || !atOrAbove(level, exchange.logLevel)) return;
    }
    if (exchange && !exchange.done) {
      const stream = this.#streamFor(exchange);
      stream.write(JSON.stringify(message));
      return;
    }
    if (this.stateless) this.listen?.deliver(message);
    else this.#standalone?.write(JSON.stringify(message));
  }

  #streamFor(exchange: Exchange): EventStream {
    if (exchange.stream) return exchange.stream;
    const stream = exchange.reply.openStream({ ...SSE_HEADERS, ...exchange.headers });
    exchange.stream = stream;
    for (const buffered of exchange.buffered.splice(0)) stream.write(JSON.stringify(buffered));
    exchange.keepAlive = setInterval(() => stream.comment('keep-alive'), KEEPALIVE_MS);
    exchange.keepAlive.unref();
    return stream;
  }

  #finish(exchange: Exchange): void {
    exchange.done = true;
    clearInterval(exchange.keepAlive);
    exchange.stream?.end();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = new Set(this.#exchanges.values());
    this.#exchanges.clear();
    this.#methods.clear();
    this.#contexts.clear();
    for (const exchange of pending) {
      if (exchange.done) continue;
      const errors = [...exchange.outstanding].map((id) => JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32000, message: 'Session closed' } }));
      if (exchange.stream) {
        for (const error of errors) exchange.stream.write(error);
        this.#finish(exchange);
      } else {
        exchange.done = true;
        exchange.reply.body(200, exchange.batch ? `[${errors.join(',')}]` : (errors[0] as string), { 'content-type': 'application/json', ...exchange.headers });
      }
    }
    clearInterval(this.#standaloneKeepAlive);
    this.#standalone?.end();
    this.#standalone = undefined;
    this.listen?.closeAll();
    this.#notifyIfIdle();
    this.onclose?.();
  }
}

/** A ReplyChannel over node's ServerResponse: bodies and SSE written straight to the socket. */
export function nodeReply(res: ServerResponse, settle: () => void): ReplyChannel {
  return {
    body(status, body, headers) {
      if (res.headersSent) return;
      if (body !== null) headers['content-length'] = String(Buffer.byteLength(body));
      res.writeHead(status, headers);
      res.end(body ?? undefined);
      settle();
    },
    openStream(headers) {
      res.writeHead(200, headers);
      res.flushHeaders();
      settle();
      const listeners: (() => void)[] = [];
      let closed = false;
      res.once('close', () => {
        closed = true;
        for (const l of listeners) l();
      });
      return {
        write(data) {
          if (closed || res.writableEnded) return false;
          res.write(`event: message\ndata: ${data}\n\n`);
          return true;
        },
        comment(text) {
          if (!closed && !res.writableEnded) res.write(`: ${text}\n\n`);
        },
        end() {
          if (!res.writableEnded) res.end();
        },
        get closed() {
          return closed || res.writableEnded;
        },
        onClose(listener) {
          listeners.push(listener);
        },
      };
    },
  };
}

/** A ReplyChannel that produces a web `Response` (for runtimes without node streams, and tests). */
export function webReply(resolve: (response: Response) => void): ReplyChannel {
  return {
    body(status, body, headers) {
      resolve(new Response(body, { status, headers }));
    },
    openStream(headers) {
      const encoder = new TextEncoder();
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      let closed = false;
      const listeners: (() => void)[] = [];
      const markClosed = () => {
        if (closed) return;
        closed = true;
        for (const l of listeners) l();
      };
      resolve(
        new Response(
          new ReadableStream<Uint8Array>({
            start: (c) => {
              controller = c;
            },
            cancel: markClosed,
          }),
          { status: 200, headers },
        ),
      );
      return {
        write(data) {
          if (closed) return false;
          controller.enqueue(encoder.encode(`event: message\ndata: ${data}\n\n`));
          return true;
        },
        comment(text) {
          if (!closed) controller.enqueue(encoder.encode(`: ${text}\n\n`));
        },
        end() {
          if (closed) return;
          controller.close();
          markClosed();
        },
        get closed() {
          return closed;
        },
        onClose(listener) {
          listeners.push(listener);
        },
      };
    },
  };
}
