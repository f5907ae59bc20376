import { randomUUID } from 'node:crypto';
import { ElicitResultSchema, ResultSchema, type Request } from '@modelcontextprotocol/sdk/types.js';
import type { CallContext } from '../pipeline/index.js';
import type { Principal } from '../tokens/index.js';
import type { RequestExtra } from './sdk-server.js';
import type { McpSession } from './session.js';

/** What the front door puts in `authInfo.extra` for every HTTP request it authenticated. */
export interface RequestAuth {
  principal: Principal;
  ip: string | undefined;
  /** The request's W3C `traceparent` header, unchecked (tracing parses it). */
  traceparent?: string | undefined;
}

/**
 * The context one JSON-RPC request carries through the pipeline, before it is resolved: its
 * operation names no server yet (server '' marks a request that never resolved to an operation).
 */
export function callContext(session: McpSession, auth: RequestAuth, request: Request, extra: RequestExtra): CallContext {
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
    op: { method: request.method, action: 'call', kind: 'server', server: '', name: '', id: '', args: undefined },
    params,
    signal: extra.signal,
    startedAt: Date.now(),
    traceparent: auth.traceparent,
    progress:
      progressToken === undefined
        ? undefined
        : (update) => {
            void extra.sendNotification({ method: 'notifications/progress', params: { progressToken, ...update } }).catch(() => undefined);
          },
    client: {
      get elicitation() {
        // A stateless request declares its capabilities itself, in its own `_meta`.
        const declared = session.stateless
          ? (session.transport.requestContext(extra.requestId)?.capabilities?.elicitation as { form?: unknown; url?: unknown } | undefined)
          : session.server.getClientCapabilities()?.elicitation;
        return { form: declared?.form !== undefined, url: declared?.url !== undefined };
      },
      elicit: (params, options) =>
        extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema, { signal: options.signal, timeout: options.timeoutMs }),
      elicitationComplete: (elicitationId) => extra.sendNotification({ method: 'notifications/elicitation/complete', params: { elicitationId } }),
      get capabilities() {
        return session.stateless ? session.transport.requestContext(extra.requestId)?.capabilities : session.server.getClientCapabilities();
      },
      request: session.stateless
        ? undefined
        : (method, params, options) =>
            extra.sendRequest({ method, params } as never, ResultSchema, { signal: options.signal, timeout: options.timeoutMs }) as Promise<
              Record<string, unknown>
            >,
      sealUpstreamState: session.stateless
        ? (upstream) => {
            const context = session.transport.requestContext(extra.requestId);
            const sink = session.transport.inputSink;
            if (!context || !sink) throw new Error('no stateless request context to bind a requestState to');
            return sink.sealUpstream(context.binding, upstream);
          }
        : undefined,
    },
    decision: undefined,
    intentSeq: undefined,
    notes: {},
    control: {},
  };
}
