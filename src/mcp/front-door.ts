import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { isInitializeRequest, JSONRPCMessageSchema, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { actorOf, AuditKind, type AuditLog } from '../audit/index.js';
import { StoreUnavailableError } from '../errors/index.js';
import { jsonRpcErrorResponse } from '../http/json-rpc-error.js';
import type { McpEnv } from '../http/app.js';
import type { Logger } from '../log/index.js';
import type { Principal } from '../tokens/index.js';
import type { RequestAuth, Router } from './router.js';
import type { Gate } from './scope-gate.js';
import { McpSession, type SessionRegistry } from './session.js';
import type { SharedSessions } from './shared-sessions.js';
import type { McpSessionRecord } from '../storage/ports/mcp-session-store.js';
import {
  checkRequestHeaders,
  checkRequestMeta,
  isModernMethod,
  isModernRequest,
  META,
  metaOf,
  MODERN_VERSIONS,
  ModernRpcCode,
  requestedVersion,
  requestLogLevel,
  StatelessPool,
  withoutReservedMeta,
} from './stateless/index.js';
import {
  auditRefusedRetry,
  CLAIM_PROBLEM_MESSAGE,
  INVALID_REQUEST_STATE,
  type InputRequiredBroker,
  retryFieldsOf,
  statelessRequestContext,
  withoutRetryFields,
} from './stateless/resume.js';
import type { ListKind } from './stateless/listen.js';
import { prepareListen } from './stateless/listen-request.js';
import { checkParamHeaders, paramHeadersOf } from '../protocol/param-headers.js';
import { nodeReply, StreamableHttpTransport, webReply, type ReplyChannel } from './streamable-http-transport.js';

/** Revisions of the session era the front door speaks (the `initialize` handshake: 2025-11-25, 2025-06-18, 2025-03-26). */
export const SUPPORTED_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;
export const LATEST_VERSION = SUPPORTED_VERSIONS[0];
/** Every revision Gatehouse speaks, newest first: the stateless 2026-07-28 and the session era. */
export const ALL_VERSIONS: readonly string[] = [...MODERN_VERSIONS, ...SUPPORTED_VERSIONS];

export interface FrontDoorDeps {
  router: Router;
  sessions: SessionRegistry;
  audit: AuditLog;
  log: Logger;
  clientIp(c: Context): string | undefined;
  /** Pre-dispatch check (token scopes, conditional access): a Response refuses the whole request. */
  gate?: Gate;
  /** Most messages one JSON-RPC batch may hold (`limits.maxBatch`). */
  maxBatch: number;
  /** Internal sessions behind stateless (2026-07-28) requests, one per user, client and grant. */
  stateless?: StatelessPool;
  /** Requests of stateless callers waiting for the client's input (multi-round-trip results). */
  inputRequired?: InputRequiredBroker;
  /** The input schema of a tool as the caller sees it (for `Mcp-Param-*` headers); undefined when unknown. */
  toolInputSchema?: (principal: Principal, sessionId: string, name: string) => Promise<unknown>;
  /** A digest of the caller's filtered view of a list (subscriptions/listen passes on only changes the caller can see). */
  listDigest?: (principal: Principal, sessionId: string, kind: ListKind) => Promise<string>;
  /** Session-era sessions kept in the store, so any node serves any of their requests. */
  shared?: SharedSessions;
}

type Env = McpEnv;

const error = (status: number, code: number, message: string, gatehouseCode: string, headers: Record<string, string> = {}) =>
  jsonRpcErrorResponse(status, code, message, headers, { code: gatehouseCode });
const sessionNotFound = () => error(404, -32001, 'Session not found', 'mcp.session_not_found');
// The same refusal as every other store outage (errors/store-unavailable.ts): one code for clients to retry on.
const storeUnavailable = () => {
  const refused = new StoreUnavailableError();
  return error(refused.status, refused.rpcCode, refused.message, refused.code, { 'retry-after': String(refused.retryAfterSeconds) });
};
const tooManySessions = () => error(429, -32000, 'Too many concurrent sessions for this user', 'mcp.too_many_sessions', { 'retry-after': '5' });

/** The access token the request authenticated with (already verified by the bearer middleware). */
function callerCredentials(c: Context<Env>): string[] {
  const header = c.req.header('authorization') ?? '';
  const token = header.slice(header.indexOf(' ') + 1).trim();
  return token ? [token] : [];
}

/**
 * Runs `deliver` with a reply channel: straight onto node's socket when there is one (no web
 * stream conversion on the hot path), else through a web Response (app.request() in tests).
 */
function respond(c: Context<Env>, deliver: (reply: ReplyChannel) => void): Promise<Response> {
  const extra = c.get('corsHeaders') ?? {};
  const withExtra = (reply: ReplyChannel): ReplyChannel => ({
    body: (status, body, headers) => reply.body(status, body, { ...headers, ...extra }),
    openStream: (headers) => reply.openStream({ ...headers, ...extra }),
  });
  const outgoing = c.env?.outgoing;
  if (outgoing) return new Promise((resolve) => deliver(withExtra(nodeReply(outgoing, () => resolve(RESPONSE_ALREADY_SENT)))));
  return new Promise((resolve) => deliver(withExtra(webReply(resolve))));
}

/**
 * The Streamable HTTP endpoint (MCP 2025-11-25 transports). Each session is a
 * StreamableHttpTransport plus an SDK Server (initialize handshake, ping, cancellation); every
 * other request goes to the Router. A session is bound to the user and client that opened it:
 * its id presented with anyone else's token is answered as if it did not exist.
 */
export function mcpEndpoint(deps: FrontDoorDeps) {
  return async (c: Context<Env>): Promise<Response> => {
    const principal = c.get('principal');
    const ip = deps.clientIp(c);
    const authInfo: AuthInfo = {
      // The raw token stays in the front door; handlers get the verified principal instead.
      token: principal.jti,
      clientId: principal.clientId ?? '',
      scopes: [...principal.scopes],
      expiresAt: Math.floor(principal.expiresAt / 1000),
      extra: { principal, ip, traceparent: c.req.header('traceparent') } satisfies RequestAuth as unknown as Record<string, unknown>,
    };
    const sessionId = c.req.header('mcp-session-id');
    const accept = c.req.header('accept') ?? '';
    if (deps.router.draining) {
      return error(503, -32000, 'Gatehouse is shutting down; retry shortly', 'gateway.shutting_down', { 'retry-after': '5', connection: 'close' });
    }

    if (c.req.method === 'POST') {
      // §sending-messages: the client MUST accept both application/json and text/event-stream.
      if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
        return error(406, -32000, 'Not Acceptable: Accept must list application/json and text/event-stream', 'mcp.not_acceptable');
      }
      const body = c.get('jsonBody');
      const batch = Array.isArray(body);
      const raw = batch ? (body as unknown[]) : [body];
      // Size first, before any message is parsed or looked at: one request is a bounded amount of work.
      if (raw.length === 0) return error(400, -32600, 'Invalid Request: empty batch', 'mcp.invalid_request');
      if (raw.length > deps.maxBatch) {
        return error(
          400,
          -32600,
          `Invalid Request: a batch may hold at most ${deps.maxBatch} messages; this one holds ${raw.length}. Nothing in it was processed.`,
          'mcp.batch_too_large',
        );
      }
      const messages: JSONRPCMessage[] = [];
      for (const item of raw) {
        const parsed = JSONRPCMessageSchema.safeParse(item);
        if (!parsed.success) return error(400, -32600, 'Invalid Request: not a JSON-RPC 2.0 message', 'mcp.invalid_request');
        messages.push(parsed.data);
      }
      if (isModernRequest(messages[0], sessionId === undefined ? c.req.header('mcp-protocol-version') : undefined, SUPPORTED_VERSIONS)) {
        // A request of the stateless revision: any Mcp-Session-Id it carries is ignored
        // (streamable-http §earlier-streamable-http-revisions), it never opens a session.
        if (batch) return error(400, -32600, 'Invalid Request: the body must be a single JSON-RPC message', 'mcp.batch_not_supported');
        return serveModern(deps, c, principal, ip, authInfo, messages[0] as JSONRPCMessage);
      }
      const session = sessionId === undefined ? undefined : await boundSession(deps, c, sessionId, principal);
      if (session instanceof Response) return session;
      // JSON-RPC batching was removed in MCP 2025-06-18 (changelog, PR #416): from that revision
      // on the POST body MUST be a single JSON-RPC message (transports §sending-messages). Only
      // sessions that negotiated 2025-03-26 may send batches.
      if (batch && session && session.protocolVersion !== '2025-03-26') {
        return error(400, -32600, 'Invalid Request: JSON-RPC batches are not supported by this protocol version', 'mcp.batch_not_supported');
      }
      if (session === undefined) {
        // isInitializeRequest validates the whole request, so a malformed one never creates a session.
        if (!batch && (messages[0] as { method?: unknown }).method === 'initialize' && !isInitializeRequest(messages[0])) {
          return error(400, -32602, 'Invalid params: initialize needs protocolVersion, capabilities and clientInfo', 'mcp.invalid_initialize');
        }
        if (batch || !isInitializeRequest(messages[0])) {
          return error(400, -32000, 'Bad Request: no valid session; send initialize first', 'mcp.no_session');
        }
        const refused = await deps.gate?.(principal, undefined, ip, messages);
        if (refused) return withCors(c, refused);
        return openSession(deps, c, principal, ip, authInfo, messages[0] as JSONRPCMessage & { params: { protocolVersion: string } });
      }
      // The method test first: the schema requires method "initialize", and a failed zod parse of
      // every other message (building its issue list) costs microseconds on each call.
      if (messages.some((m) => (m as { method?: unknown }).method === 'initialize' && isInitializeRequest(m)))
        return error(400, -32600, 'Invalid Request: session already initialized', 'mcp.already_initialized');
      // Scopes are checked only for the caller's own session: resolving names against another
      // session's catalog could start a per-session upstream for it.
      const refused = await deps.gate?.(principal, session.id, ip, messages);
      if (refused) return withCors(c, refused);
      session.touch();
      return respond(c, (reply) => session.transport.acceptPost(messages, batch, reply, authInfo, callerCredentials(c)));
    }

    if (sessionId === undefined) {
      // The stateless revision has no GET stream and no DELETE (streamable-http §earlier-streamable-http-revisions).
      if (MODERN_VERSIONS.includes(c.req.header('mcp-protocol-version') ?? '')) {
        return error(405, -32000, 'Method Not Allowed: this protocol version has no sessions', 'mcp.method_not_allowed', { allow: 'POST' });
      }
      return error(400, -32000, 'Bad Request: Mcp-Session-Id header required', 'mcp.no_session');
    }
    const session = await boundSession(deps, c, sessionId, principal);
    if (session instanceof Response) return session;
    const refused = await deps.gate?.(principal, session.id, ip, []);
    if (refused) return withCors(c, refused);

    if (c.req.method === 'GET') {
      if (!accept.includes('text/event-stream')) return error(406, -32000, 'Not Acceptable: Accept must list text/event-stream', 'mcp.not_acceptable');
      session.touch();
      let opened = false;
      const response = await new Promise<Response>((resolve) => {
        void respond(c, (reply) => {
          opened = session.transport.openStandalone(reply, callerCredentials(c));
          if (!opened) resolve(error(409, -32000, 'Conflict: this session already has a GET stream', 'mcp.stream_conflict'));
        }).then(resolve);
      });
      return response;
    }

    // DELETE: the client ends its session (MCP transports §session-management), on every node:
    // recorded in the store before the answer, so no node serves it afterwards.
    if (deps.shared) {
      try {
        await deps.shared.terminate(session.id);
      } catch (err) {
        deps.log.error({ err }, 'could not record an MCP session as ended');
        return storeUnavailable();
      }
    }
    await deps.sessions.close(session, 'deleted');
    return new Response(null, { status: 200, headers: { 'mcp-session-id': session.id, ...c.get('corsHeaders') } });
  };
}

function withCors(c: Context<Env>, response: Response): Response {
  for (const [name, value] of Object.entries(c.get('corsHeaders') ?? {})) response.headers.set(name, value);
  return response;
}

async function boundSession(deps: FrontDoorDeps, c: Context<Env>, sessionId: string, principal: Principal): Promise<McpSession | Response> {
  const found = deps.shared ? await deps.shared.resolve(sessionId, principal) : deps.sessions.get(sessionId);
  if (found === 'store_unavailable') return storeUnavailable();
  if (found === 'too_many_sessions') return tooManySessions();
  const session = found === 'not_found' ? undefined : found;
  if (!session || session.sub !== principal.sub || session.clientId !== principal.clientId) return sessionNotFound();
  // §protocol-version-header: an unsupported version is a 400. A supported one that differs from
  // what the session negotiated is valid: the session's negotiated revision decides the rules
  // (batches, for one), not the header.
  const version = c.req.header('mcp-protocol-version');
  if (version !== undefined && !(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    return error(
      400,
      -32000,
      `Bad Request: unsupported MCP-Protocol-Version ${version} (this session uses ${session.protocolVersion})`,
      'mcp.bad_protocol_version',
    );
  }
  return session;
}

/**
 * The local half of a session recorded in the store by another node (or before a restart):
 * the same transport, SDK server and registry entry for the stored id, bound as it was bound.
 * No session.start is audited again; the caller replays the stored initialize into it.
 */
export function recreateSession(deps: Pick<FrontDoorDeps, 'router' | 'sessions' | 'audit'>, record: McpSessionRecord): Promise<McpSession> {
  return createSession(
    deps,
    { sub: record.sub, clientId: record.clientId, jti: record.openedJti, grantId: record.openedGrantId },
    undefined,
    record.protocolVersion,
    undefined,
    record.id,
  );
}

/** A new session of `version` for the caller: transport, SDK server, registry entry and audit record. */
async function createSession(
  deps: Pick<FrontDoorDeps, 'router' | 'sessions' | 'audit'>,
  principal: Pick<Principal, 'sub' | 'clientId' | 'jti' | 'grantId'>,
  ip: string | undefined,
  version: string,
  clientInfo: unknown,
  storedId?: string,
): Promise<McpSession> {
  // 256 bits from the CSPRNG, base64url: visible ASCII as the spec requires, and unguessable.
  const id = storedId ?? randomBytes(32).toString('base64url');
  const transport = new StreamableHttpTransport(id, undefined, MODERN_VERSIONS.includes(version));
  let session: McpSession | undefined;
  const server = deps.router.createServer(() => session);
  session = new McpSession(id, principal.sub, principal.clientId, ip, server, transport);
  session.protocolVersion = version;
  session.openedWith = { jti: principal.jti, grantId: principal.grantId };
  transport.onclose = () => {
    if (session && !session.closed && deps.sessions.get(id)) void deps.sessions.close(session, 'transport');
  };
  await server.connect(transport);
  deps.sessions.add(session);
  if (storedId !== undefined) return session;
  void deps.audit.append(
    AuditKind.SessionStart,
    {
      actor: actorOf(principal, { sessionId: id, ip }),
      protocolVersion: version,
      clientInfo,
    },
    { durable: false },
  );
  return session;
}

async function openSession(
  deps: FrontDoorDeps,
  c: Context<Env>,
  principal: Principal,
  ip: string | undefined,
  authInfo: AuthInfo,
  initialize: JSONRPCMessage & { params: { protocolVersion: string; clientInfo?: unknown } },
): Promise<Response> {
  if (!(await deps.sessions.makeRoom(principal.sub))) {
    return error(429, -32000, 'Too many concurrent sessions for this user', 'mcp.too_many_sessions', { 'retry-after': '5' });
  }
  // §lifecycle version negotiation: answer an unknown version with ours and let the client
  // decide. Rewriting it here keeps the SDK Server from agreeing to 2024-era revisions.
  const requested = initialize.params.protocolVersion;
  const version = (SUPPORTED_VERSIONS as readonly string[]).includes(requested) ? requested : LATEST_VERSION;
  const message = version === requested ? initialize : { ...initialize, params: { ...initialize.params, protocolVersion: version } };
  const session = await createSession(deps, principal, ip, version, initialize.params.clientInfo);
  if (deps.shared) {
    // Recorded before the id reaches the client: its next request may land on any node.
    try {
      await deps.shared.opened(session, (initialize.params as { capabilities?: unknown }).capabilities, initialize.params.clientInfo);
    } catch (err) {
      deps.log.error({ err }, 'could not record a new MCP session');
      await deps.sessions.close(session, 'terminated');
      return storeUnavailable();
    }
  }
  return respond(c, (reply) => session.transport.acceptPost([message as JSONRPCMessage], false, reply, authInfo, callerCredentials(c)));
}

/**
 * One request of the stateless revision (MCP 2026-07-28). Its version and HTTP metadata are
 * checked against the body, then it runs on the caller's internal session (see StatelessPool):
 * the same scope gate, pipeline, audit and exit sanitizer as a request of the session era.
 */
async function serveModern(
  deps: FrontDoorDeps,
  c: Context<Env>,
  principal: Principal,
  ip: string | undefined,
  authInfo: AuthInfo,
  message: JSONRPCMessage,
): Promise<Response> {
  const pool = deps.stateless;
  const id = (message as { id?: string | number }).id;
  const headerVersion = c.req.header('mcp-protocol-version');
  // versioning §protocol-version-negotiation: an unsupported version is answered with the ones
  // this path speaks (what server/discover lists), so a client can retry with one of them.
  const unsupported = (requested: unknown) =>
    jsonRpcErrorResponse(
      400,
      ModernRpcCode.UnsupportedProtocolVersion,
      'Unsupported protocol version',
      {},
      {
        code: 'mcp.unsupported_protocol_version',
        supported: pool === undefined ? [...SUPPORTED_VERSIONS] : [...MODERN_VERSIONS],
        requested: requested ?? null,
      },
      id,
    );
  const version = requestedVersion(message) ?? headerVersion;
  if (pool === undefined) return unsupported(version);
  // Header and body agree on (or only the header names) a revision we do not speak: its rules
  // are unknown, so that is the answer. Otherwise, in this order: a malformed _meta (-32602),
  // headers that contradict the body (-32020), a version we do not speak (-32022), a method
  // the revision does not have (404).
  if (typeof version === 'string' && version === headerVersion && !MODERN_VERSIONS.includes(version)) return unsupported(version);
  const metaProblem = checkRequestMeta(message);
  if (metaProblem) return jsonRpcErrorResponse(metaProblem.status, metaProblem.code, metaProblem.message, {}, { code: metaProblem.gatehouseCode }, id);
  const problem = checkRequestHeaders((name) => c.req.header(name), message, version);
  if (problem) return jsonRpcErrorResponse(problem.status, problem.code, problem.message, {}, { code: problem.gatehouseCode }, id);
  if (typeof version !== 'string' || !MODERN_VERSIONS.includes(version)) return unsupported(version);
  const method = (message as { method?: unknown }).method;
  if (id !== undefined && !isModernMethod(method)) {
    return jsonRpcErrorResponse(404, -32601, `Method not found in protocol version ${version}`, {}, { code: 'mcp.method_not_found' }, id);
  }

  const key = StatelessPool.key(principal.sub, principal.clientId, principal.grantId);
  let session = pool.get(key);
  if (session === undefined) {
    if (!(await deps.sessions.makeRoom(principal.sub))) {
      return error(429, -32000, 'Too many concurrent sessions for this user', 'mcp.too_many_sessions', { 'retry-after': '5' });
    }
    const meta = metaOf(message);
    session = await createSession(deps, principal, ip, version, meta?.[META.clientInfo]);
    session.declaredClientName = clientNameOf(meta?.[META.clientInfo]);
    pool.set(key, session);
  }
  const params = (message as { method?: unknown; params?: { name?: unknown; arguments?: unknown } }).params;
  if ((message as { method?: unknown }).method === 'tools/call' && typeof params?.name === 'string' && deps.toolInputSchema) {
    const specs = paramHeadersOf(await deps.toolInputSchema(principal, session.id, params.name));
    const mismatch = specs && checkParamHeaders((name) => c.req.header(name), specs, params.arguments);
    if (mismatch) {
      return jsonRpcErrorResponse(
        mismatch.status,
        mismatch.code,
        mismatch.message,
        {},
        { code: mismatch.gatehouseCode },
        (message as { id?: string | number }).id,
      );
    }
  }
  const refused = await deps.gate?.(principal, session.id, ip, [message]);
  if (refused) return withCors(c, refused);
  session.transport.inputSink ??= deps.inputRequired;
  if ((message as { method?: unknown }).method === 'subscriptions/listen' && 'id' in message) {
    const live = session;
    const prepared = await prepareListen({
      session: live,
      message: message as JSONRPCRequest,
      authInfo,
      credentials: callerCredentials(c),
      digest: (kind) => deps.listDigest?.(principal, live.id, kind) ?? Promise.resolve(''),
      gate: async (messages) => deps.gate?.(principal, live.id, ip, messages),
    });
    if ('refuse' in prepared) {
      const { status, code, message: text } = prepared.refuse;
      return jsonRpcErrorResponse(status, code, text, {}, { code: 'mcp.invalid_params' }, (message as { id?: string | number }).id);
    }
    if ('gated' in prepared) return withCors(c, prepared.gated);
    live.touch();
    return respond(c, (reply) => prepared.open(reply));
  }
  const context = statelessRequestContext(principal, message);
  const retry = retryFieldsOf(message);
  if (retry) {
    // A retry (mrtr): its sealed state must name a request of this caller, for this very request, still waiting.
    const held = deps.inputRequired?.claim(retry.requestState, retry.inputResponses, context.binding, context.capabilities) ?? {
      problem: 'not_pending' as const,
    };
    if ('problem' in held) {
      deps.log.warn(
        { sub: principal.sub, client: principal.clientId, method: context.binding.method, reason: held.problem },
        'stateless retry refused: requestState',
      );
      auditRefusedRetry(deps.audit, principal, ip, context, held.problem);
      return jsonRpcErrorResponse(
        400,
        INVALID_REQUEST_STATE,
        CLAIM_PROBLEM_MESSAGE[held.problem],
        {},
        { code: 'mcp.request_state_invalid', reason: held.problem },
        (message as { id?: string | number }).id,
      );
    }
    context.resume = held.claim;
  }
  session.touch();
  const forwarded = withoutRetryFields(withoutReservedMeta(message));
  const live = session;
  const logLevel = requestLogLevel(message);
  return respond(c, (reply) => live.transport.acceptPost([forwarded], false, reply, authInfo, callerCredentials(c), { ...context, logLevel }));
}

/** A display name from a client's self-reported info: bounded, never trusted for decisions. */
function clientNameOf(info: unknown): string | undefined {
  const name = (info as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name.slice(0, 128) : undefined;
}
