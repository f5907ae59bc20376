import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type { McpSession } from '../session.js';
import type { EventStream, ReplyChannel } from '../streamable-http-transport.js';
import { ListenHub, type ListKind, ListenStream, parseListenFilter } from './listen.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' };
const KEEPALIVE_MS = 25_000;
let internalIds = 0;

export interface ListenRequest {
  session: McpSession;
  message: JSONRPCRequest;
  authInfo: AuthInfo;
  credentials: readonly string[];
  /** The caller's filtered view of a list, digested (see ListenStream). */
  digest(kind: ListKind): Promise<string>;
  /** The scope gate for the subscriptions the stream implies: a Response refuses the listen. */
  gate(messages: JSONRPCMessage[]): Promise<Response | undefined>;
}

/** The outcome of preparing a listen: an HTTP refusal, or the stream to open. */
export type ListenOutcome = { refuse: { status: number; code: number; message: string } } | { gated: Response } | { open(reply: ReplyChannel): void };

/**
 * `subscriptions/listen` (subscriptions §opening-a-stream) for a stateless caller. Each resource
 * it names is subscribed the way a session-era `resources/subscribe` is — through the router,
 * so the catalog must resolve it for this caller, policy must allow reading it, and the call
 * is audited; what is refused is left out of the acknowledgment, and nothing is ever sent for
 * it. List changes are passed on only when the caller's filtered list changed.
 */
export async function prepareListen(request: ListenRequest): Promise<ListenOutcome> {
  const filter = parseListenFilter(request.message.params);
  if (typeof filter === 'string') return { refuse: { status: 400, code: -32602, message: filter } };
  const { session } = request;
  const subscribe = (filter.resourceSubscriptions ?? []).map((uri) => internalRequest('resources/subscribe', uri));
  const gated = await request.gate(subscribe);
  if (gated) return { gated };
  const agreed: string[] = [];
  for (const message of subscribe) {
    const response = await runInternal(session, message, request.authInfo, request.credentials);
    if (response && 'result' in response) agreed.push((message.params as { uri: string }).uri);
  }
  const acknowledged = { ...filter, ...(filter.resourceSubscriptions ? { resourceSubscriptions: agreed } : {}) };
  return {
    open(reply) {
      const events = reply.openStream(SSE_HEADERS);
      const listen = new ListenStream(request.message.id, acknowledged, events, request.digest);
      const hub = (session.transport.listen ??= new ListenHub());
      listen.acknowledge();
      hub.add(listen);
      const keepAlive = setInterval(() => events.comment('keep-alive'), KEEPALIVE_MS);
      keepAlive.unref();
      onClose(events, () => {
        clearInterval(keepAlive);
        hub.remove(listen);
        // Subscriptions no other stream of this caller still needs end at the upstream too.
        const still = hub.watched(listen);
        for (const uri of agreed) {
          if (!still.has(uri) && !session.closed)
            void runInternal(session, internalRequest('resources/unsubscribe', uri), request.authInfo, request.credentials);
        }
      });
    },
  };
}

function onClose(events: EventStream, listener: () => void): void {
  if (events.closed) listener();
  else events.onClose(listener);
}

function internalRequest(method: string, uri: string): JSONRPCRequest {
  return { jsonrpc: '2.0', id: `gatehouse-listen-${++internalIds}`, method, params: { uri } };
}

/** Runs a request of Gatehouse's own on the caller's session, as if the caller had sent it, and returns its response. */
function runInternal(session: McpSession, message: JSONRPCRequest, authInfo: AuthInfo, credentials: readonly string[]): Promise<JSONRPCMessage | undefined> {
  return new Promise((resolve) => {
    let last: JSONRPCMessage | undefined;
    const reply: ReplyChannel = {
      body: (_status, body) => resolve(body ? (JSON.parse(body) as JSONRPCMessage) : undefined),
      openStream: () => ({
        write: (data) => {
          last = JSON.parse(data) as JSONRPCMessage;
          return true;
        },
        comment: () => undefined,
        end: () => resolve(last),
        closed: false,
        onClose: () => undefined,
      }),
    };
    session.transport.acceptPost([message], false, reply, authInfo, credentials);
  });
}
