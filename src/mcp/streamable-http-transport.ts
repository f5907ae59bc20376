import type { ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';

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
export class StreamableHttpTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  readonly #exchanges = new Map<RequestId, Exchange>();
  #standalone: EventStream | undefined;
  #standaloneKeepAlive: NodeJS.Timeout | undefined;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(readonly sessionId: string) {}

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
  acceptPost(messages: JSONRPCMessage[], batch: boolean, reply: ReplyChannel, authInfo: AuthInfo | undefined): void {
    const headers = { 'mcp-session-id': this.sessionId };
    const ids: RequestId[] = [];
    for (const message of messages) if (isJSONRPCRequest(message)) ids.push(message.id);
    const duplicate = ids.find((id, i) => this.#exchanges.has(id) || ids.indexOf(id) !== i);
    if (duplicate !== undefined) {
      reply.body(400, JSON.stringify({ jsonrpc: '2.0', id: duplicate, error: { code: -32600, message: `Request id ${JSON.stringify(duplicate)} is already in use` } }), { 'content-type': 'application/json', ...headers });
      return;
    }
    if (ids.length === 0) {
      reply.body(202, null, headers);
    } else {
      const exchange = new Exchange(ids, batch, reply, headers);
      for (const id of ids) this.#exchanges.set(id, exchange);
    }
    const extra: MessageExtraInfo = authInfo ? { authInfo } : {};
    for (const message of messages) this.onmessage?.(message, extra);
    for (const message of messages) {
      if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
        const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        if (requestId !== undefined) this.#abandon(requestId);
      }
    }
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
  openStandalone(reply: ReplyChannel): boolean {
    if (this.#standalone && !this.#standalone.closed) return false;
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

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) return;
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const id = message.id as RequestId;
      const exchange = this.#exchanges.get(id);
      // A response for a request nobody waits for any more (client went away): nothing to do.
      if (!exchange) return;
      this.#exchanges.delete(id);
      exchange.outstanding.delete(id);
      if (exchange.stream) {
        exchange.stream.write(JSON.stringify(message));
        if (exchange.outstanding.size === 0) this.#finish(exchange);
      } else {
        exchange.buffered.push(message);
        if (exchange.outstanding.size === 0) {
          exchange.done = true;
          const body = exchange.batch ? JSON.stringify(exchange.buffered) : JSON.stringify(exchange.buffered[0]);
          exchange.reply.body(200, body, { 'content-type': 'application/json', ...exchange.headers });
        }
      }
      this.#notifyIfIdle();
      return;
    }
    // A notification or server→client request: on its request's stream when it has one.
    const related = options?.relatedRequestId;
    const exchange = related === undefined ? undefined : this.#exchanges.get(related);
    if (exchange && !exchange.done) {
      const stream = this.#streamFor(exchange);
      stream.write(JSON.stringify(message));
      return;
    }
    this.#standalone?.write(JSON.stringify(message));
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
