import { randomBytes } from 'node:crypto';
import {
  CreateMessageResultSchema,
  CreateMessageResultWithToolsSchema,
  ElicitResultSchema,
  ListRootsResultSchema,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
  type RequestId,
  type Result,
} from '@modelcontextprotocol/sdk/types.js';
import { INVALID_REQUEST_STATE, JsonRpcError, type ClaimProblem } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { ResumeClaim } from '../../pipeline/index.js';
import type { RequestStateBinding, RequestStateSealer, UpstreamState } from './request-state.js';

/** How long the first of an upstream's requests to the client waits for the ones sent with it. */
export const INPUT_COALESCE_MS = 20;

/** Client requests that may be answered with an InputRequiredResult (mrtr §supported-requests). */
export const INPUT_REQUIRED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** Server→client requests that travel inside an InputRequiredResult, and how an answer to each must look. */
const ANSWER_SCHEMAS: Record<string, { safeParse(value: unknown): { success: boolean } }[]> = {
  'elicitation/create': [ElicitResultSchema],
  'sampling/createMessage': [CreateMessageResultSchema, CreateMessageResultWithToolsSchema],
  'roots/list': [ListRootsResultSchema],
};

/** Short, readable prefixes for the server-assigned `inputRequests` keys. */
const KEY_PREFIX: Record<string, string> = { 'elicitation/create': 'elicitation', 'sampling/createMessage': 'sampling', 'roots/list': 'roots' };

/** Requests one caller may have waiting for input at once, unless configured otherwise. */
export const DEFAULT_MAX_PER_CALLER = 16;

// The error a client gets for a `requestState` Gatehouse did not issue for this request
// (basic §error-codes: invalid params, HTTP 400); it lives with the other typed errors.
export { INVALID_REQUEST_STATE };

/** The per-request facts of a stateless request the transport keeps while it is handled. */
export interface StatelessRequestContext {
  /** What a `requestState` issued for this request is bound to. */
  binding: RequestStateBinding;
  /** The capabilities the client declared in this request's `_meta` (basic §_meta): only these may be asked for. */
  capabilities: Record<string, unknown> | undefined;
  /** Present on a retry that resumes a pending request. */
  resume?: ResumeClaim | undefined;
}

/** The part of the stateless transport the broker drives: the SDK's inbound side and the exit sanitizer. */
export interface InputTransport {
  readonly sessionId: string;
  readonly closed: boolean;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  send(message: JSONRPCMessage): Promise<void>;
  requestContext(id: RequestId): StatelessRequestContext | undefined;
}

/** What a stateless transport hands over instead of sending a server→client request. */
export interface StatelessInputSink {
  /** True when `request` will reach the client inside an InputRequiredResult; false: the transport refuses it. */
  serverRequest(transport: InputTransport, request: JSONRPCRequest, relatedId: RequestId | undefined): boolean;
  /** The response to a request whose HTTP exchange already ended with an InputRequiredResult. */
  lateResponse(transport: InputTransport, response: JSONRPCResultResponse | JSONRPCErrorResponse): void;
  /** A response that went out on its request's own exchange. */
  responded(transport: InputTransport, response: JSONRPCResultResponse | JSONRPCErrorResponse): void;
  /** Seals an upstream's own InputRequiredResult state into a `requestState` bound to this request (see {@link InputRequiredBroker.sealUpstream}). */
  sealUpstream(binding: RequestStateBinding, upstream: UpstreamState): string;
}

type Outcome = { kind: 'input'; result: Result } | { kind: 'final'; response: JSONRPCResultResponse | JSONRPCErrorResponse };

interface Outstanding {
  serverId: RequestId;
  method: string;
  params: unknown;
}

/**
 * One client request that is waiting for the client's input: the original request keeps
 * running (its pipeline and its upstream call stay in flight) while the client gathers answers
 * and retries. Held here, in memory, keyed by the id inside the sealed state.
 */
interface PendingInput {
  readonly id: string;
  readonly transport: InputTransport;
  readonly callId: RequestId;
  readonly binding: RequestStateBinding;
  capabilities: Record<string, unknown> | undefined;
  /** The round whose state the next retry must present; older states are spent. */
  round: number;
  /** A retry holds this pending request right now: a second presentation of the same state is refused. */
  claimed: boolean;
  /** Requests to the client not answered yet, by the key the client sees. */
  readonly outstanding: Map<string, Outstanding>;
  nextKey: number;
  /** The original HTTP exchange is still open: the first InputRequiredResult answers it. */
  firstRound: boolean;
  /** The retry waiting for what happens next. */
  deliver: ((outcome: Outcome) => void) | undefined;
  /** The final response, when it arrived while no retry was waiting. */
  settled: Outcome | undefined;
  flushQueued: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface InputRequiredOptions {
  sealer: RequestStateSealer;
  log: Logger;
  /** How long a pending request waits for the client's retry before it is cancelled. */
  timeoutMs: number;
  /** How long the first request waits for the ones sent with it (default {@link INPUT_COALESCE_MS}; 0: the same turn only). */
  coalesceMs?: number;
  /** Most requests one caller (internal session) may have waiting for input at once; more fail back to their sender. */
  maxPerCaller?: number;
  now?: () => number;
}

export type { ClaimProblem };

/**
 * Multi-round-trip translation (mrtr) for the stateless revision. An upstream of the session era
 * (or Gatehouse's own approval step) sends a server→client request — elicitation, sampling,
 * roots — while handling a client's request. A stateless client cannot receive one, so the
 * request goes back as an InputRequiredResult with a sealed `requestState`; the retry's
 * answers are fed to the waiting request, which continues, and its final result (or the next
 * InputRequiredResult) answers the retry. The upstream never notices the difference.
 */
export class InputRequiredBroker implements StatelessInputSink {
  readonly #byId = new Map<string, PendingInput>();
  readonly #byCall = new Map<string, PendingInput>();
  readonly #started = new WeakSet<ResumeClaim>();
  readonly #capabilities = new WeakMap<ResumeClaim, Record<string, unknown> | undefined>();
  readonly #now: () => number;
  /** Upstream-state nonces already presented, until their states expire. */
  readonly #spent = new Map<string, number>();

  constructor(private readonly options: InputRequiredOptions) {
    this.#now = options.now ?? Date.now;
  }

  /** Pending requests held now (for tests and metrics). */
  get size(): number {
    return this.#byId.size;
  }

  #countFor(transport: InputTransport): number {
    let n = 0;
    for (const pending of this.#byId.values()) if (pending.transport === transport) n++;
    return n;
  }

  static #callKey(transport: InputTransport, id: RequestId): string {
    return `${transport.sessionId}\u0000${typeof id}:${String(id)}`;
  }

  serverRequest(transport: InputTransport, request: JSONRPCRequest, relatedId: RequestId | undefined): boolean {
    if (relatedId === undefined || !ANSWER_SCHEMAS[request.method]) return false;
    const callKey = InputRequiredBroker.#callKey(transport, relatedId);
    let pending = this.#byCall.get(callKey);
    const context = pending ? undefined : transport.requestContext(relatedId);
    if (!pending && (!context || !INPUT_REQUIRED_METHODS.has(context.binding.method))) return false;
    // mrtr §server-requirements: never ask for what the client did not declare, in the request being answered.
    if (!declares(pending ? pending.capabilities : context?.capabilities, request)) return false;
    if (!pending && context) {
      // Each waiting request holds an upstream call open: a caller cannot hold any number of them.
      if (this.#countFor(transport) >= (this.options.maxPerCaller ?? DEFAULT_MAX_PER_CALLER)) {
        this.options.log.warn({ session: transport.sessionId, method: request.method }, 'too many requests waiting for client input; refused');
        return false;
      }
      pending = {
        id: randomBytes(18).toString('base64url'),
        transport,
        callId: relatedId,
        binding: context.binding,
        capabilities: context.capabilities,
        round: 0,
        claimed: false,
        outstanding: new Map(),
        nextKey: 0,
        firstRound: true,
        deliver: undefined,
        settled: undefined,
        flushQueued: false,
        timer: undefined,
      };
      this.#byId.set(pending.id, pending);
      this.#byCall.set(callKey, pending);
      this.#arm(pending);
    }
    if (!pending) return false;
    pending.outstanding.set(`${KEY_PREFIX[request.method]}-${++pending.nextKey}`, {
      serverId: request.id,
      method: request.method,
      params: modernParams(request),
    });
    this.#queueFlush(pending);
    return true;
  }

  lateResponse(transport: InputTransport, response: JSONRPCResultResponse | JSONRPCErrorResponse): void {
    if (response.id === undefined) return;
    const pending = this.#byCall.get(InputRequiredBroker.#callKey(transport, response.id));
    if (!pending) return;
    const outcome: Outcome = { kind: 'final', response };
    pending.outstanding.clear();
    if (pending.deliver) {
      const deliver = pending.deliver;
      this.#finish(pending);
      deliver(outcome);
    } else {
      // Nobody is waiting right now: the next valid retry collects it.
      pending.settled = outcome;
    }
  }

  responded(transport: InputTransport, response: JSONRPCResultResponse | JSONRPCErrorResponse): void {
    if (response.id === undefined || ('result' in response && response.result.resultType === 'input_required')) return;
    // The request finished before its input requests went out (an approval decided on the page
    // at once, say): nothing waits for a retry any more.
    const pending = this.#byCall.get(InputRequiredBroker.#callKey(transport, response.id));
    if (pending?.firstRound) this.#finish(pending);
  }

  /**
   * Verifies a retry's `requestState` and takes hold of the pending request it names. Nothing
   * changes unless everything checks: the seal, the user and client, the request it was issued
   * for, the expiry, that it is the current round and not held by another retry, and that every
   * answer has the shape of the request it answers.
   */
  claim(
    state: unknown,
    inputResponses: unknown,
    expected: RequestStateBinding,
    capabilities: Record<string, unknown> | undefined,
  ): { claim: ResumeClaim } | { problem: ClaimProblem } {
    const opened = this.options.sealer.open(state, expected);
    if ('problem' in opened) return opened;
    if (opened.claims.upstream) {
      // One retry per state, as for a waiting request: a replayed answer must not run the
      // upstream's continuation (a confirmed destructive step, say) a second time.
      this.#forgetSpent();
      if (this.#spent.has(opened.claims.pending)) return { problem: 'not_pending' };
      const held = passthroughClaim(opened.claims.upstream, inputResponses);
      if ('claim' in held) this.#spent.set(opened.claims.pending, opened.claims.exp);
      return held;
    }
    const pending = this.#byId.get(opened.claims.pending);
    if (!pending || pending.round !== opened.claims.round || pending.claimed || pending.transport.closed) return { problem: 'not_pending' };
    const responses = inputResponses ?? {};
    if (typeof responses !== 'object' || responses === null || Array.isArray(responses)) return { problem: 'invalid_responses' };
    for (const [key, waiting] of pending.outstanding) {
      if (!Object.hasOwn(responses, key)) continue;
      const answer = (responses as Record<string, unknown>)[key];
      if (!(ANSWER_SCHEMAS[waiting.method] ?? []).some((schema) => schema.safeParse(answer).success)) return { problem: 'invalid_responses' };
    }
    pending.claimed = true;
    const claim: ResumeClaim = {
      pendingId: pending.id,
      inputResponses: responses as Record<string, unknown>,
      abandon: (reason) => {
        // Only a retry refused before it resumed lets go; one that resumed is settled by resume().
        if (!this.#started.has(claim) && this.#byId.get(pending.id) === pending) this.#cancel(pending, reason);
      },
    };
    this.#capabilities.set(claim, capabilities);
    return { claim };
  }

  /**
   * Resumes the pending request with the retry's answers and waits for what it does next: its
   * final result, or another InputRequiredResult. Runs as the last step of the retry's own
   * pipeline, after that retry was authorized.
   */
  resume(claim: ResumeClaim, signal: AbortSignal): Promise<Result> {
    this.#started.add(claim);
    const pending = this.#byId.get(claim.pendingId);
    if (!pending) {
      return Promise.reject(
        new JsonRpcError(INVALID_REQUEST_STATE, 'Invalid params: requestState does not refer to a pending request', {
          code: 'mcp.request_state_invalid',
          reason: 'not_pending',
        }),
      );
    }
    pending.capabilities = this.#capabilities.get(claim);
    return new Promise<Result>((resolve, reject) => {
      const settle = (outcome: Outcome) => {
        signal.removeEventListener('abort', onAbort);
        if (outcome.kind === 'input') return resolve(outcome.result);
        if ('error' in outcome.response) {
          const { code, message, data } = outcome.response.error;
          return reject(new JsonRpcError(code, message, data as Record<string, unknown> | undefined));
        }
        resolve(outcome.response.result);
      };
      const onAbort = () => {
        // The retry went away: the pending request waits for the next retry with the same state.
        if (pending.deliver === settle) {
          pending.deliver = undefined;
          pending.claimed = false;
        }
        reject(Object.assign(new Error('retry cancelled'), { name: 'AbortError' }));
      };
      if (pending.settled) {
        const settled = pending.settled;
        this.#finish(pending);
        return settle(settled);
      }
      pending.deliver = settle;
      signal.addEventListener('abort', onAbort, { once: true });
      this.#arm(pending);
      for (const [key, answer] of Object.entries(claim.inputResponses)) {
        const waiting = pending.outstanding.get(key);
        if (!waiting) continue;
        pending.outstanding.delete(key);
        pending.transport.onmessage?.({ jsonrpc: '2.0', id: waiting.serverId, result: answer as Result });
      }
      // mrtr §error-handling: what is still unanswered is asked for again rather than failed.
      if (pending.outstanding.size > 0) this.#queueFlush(pending);
    });
  }

  /**
   * The `requestState` Gatehouse gives a stateless client when an upstream of the stateless
   * revision answered its request with an InputRequiredResult: the upstream's own state, and
   * which method each of its input requests is, sealed and bound to this user, client and
   * request like every state Gatehouse issues. No call waits in memory: the retry carries
   * everything the upstream needs; only the state's nonce is remembered once it is used.
   */
  sealUpstream(binding: RequestStateBinding, upstream: UpstreamState): string {
    const nonce = randomBytes(18).toString('base64url');
    return this.options.sealer.seal({ ...binding, pending: nonce, round: 0, exp: this.#now() + this.options.timeoutMs, upstream });
  }

  #forgetSpent(): void {
    const now = this.#now();
    for (const [nonce, exp] of this.#spent) if (exp <= now) this.#spent.delete(nonce);
  }

  /** Ends every pending request (shutdown): the upstream calls are cancelled. */
  closeAll(reason: string): void {
    for (const pending of [...this.#byId.values()]) this.#cancel(pending, reason);
  }

  #queueFlush(pending: PendingInput): void {
    if (pending.flushQueued) return;
    pending.flushQueued = true;
    // Requests the upstream sends together go out in one InputRequiredResult. "Together" on the
    // upstream's side (one turn there) is not one turn here: its lines cross a pipe and may arrive
    // in several reads, so the first request waits a short window for the others.
    const wait = this.options.coalesceMs ?? INPUT_COALESCE_MS;
    if (wait === 0) setImmediate(() => this.#flush(pending));
    else setTimeout(() => this.#flush(pending), wait).unref();
  }

  #flush(pending: PendingInput): void {
    pending.flushQueued = false;
    if (this.#byId.get(pending.id) !== pending || pending.outstanding.size === 0) return;
    // Between rounds nobody can receive it; the next retry is answered with what is outstanding.
    if (!pending.firstRound && !pending.deliver) return;
    pending.round++;
    const requestState = this.options.sealer.seal({ ...pending.binding, pending: pending.id, round: pending.round, exp: this.#now() + this.options.timeoutMs });
    const inputRequests = Object.fromEntries([...pending.outstanding].map(([key, { method, params }]) => [key, { method, params }]));
    const result = { resultType: 'input_required', inputRequests, requestState } as Result;
    this.#arm(pending);
    if (pending.firstRound) {
      pending.firstRound = false;
      // Through the transport's exit, like every message to the client: sanitized, under the client's id.
      void pending.transport.send({ jsonrpc: '2.0', id: pending.callId, result });
      return;
    }
    const deliver = pending.deliver as (outcome: Outcome) => void;
    pending.deliver = undefined;
    pending.claimed = false;
    deliver({ kind: 'input', result });
  }

  /** (Re)starts the timer within which the client must retry. */
  #arm(pending: PendingInput): void {
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => this.#cancel(pending, 'the client did not retry in time'), this.options.timeoutMs);
    pending.timer.unref();
  }

  #finish(pending: PendingInput): void {
    clearTimeout(pending.timer);
    this.#byId.delete(pending.id);
    this.#byCall.delete(InputRequiredBroker.#callKey(pending.transport, pending.callId));
    pending.deliver = undefined;
    pending.settled = undefined;
  }

  /** Gives up on a pending request: its open server requests fail, and the original request is cancelled. */
  #cancel(pending: PendingInput, reason: string): void {
    const deliver = pending.deliver;
    const outstanding = [...pending.outstanding.values()];
    const settled = pending.settled !== undefined;
    this.#finish(pending);
    pending.outstanding.clear();
    this.options.log.info(
      { session: pending.transport.sessionId, method: pending.binding.method, target: pending.binding.target, reason },
      'pending request for client input cancelled',
    );
    if (!pending.transport.closed && !settled) {
      for (const waiting of outstanding) {
        pending.transport.onmessage?.({
          jsonrpc: '2.0',
          id: waiting.serverId,
          error: { code: -32001, message: `The client did not answer ${waiting.method}: ${reason}` },
        });
      }
      pending.transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: pending.callId, reason } });
    }
    deliver?.({
      kind: 'final',
      response: { jsonrpc: '2.0', id: pending.callId, error: { code: -32001, message: `Request cancelled: ${reason}`, data: { code: 'mcp.input_timeout' } } },
    });
  }
}

/**
 * A retry of a request a stateless upstream asked input for: the answers are checked against
 * the kind of each request (as sealed), and only answers to what was asked travel on.
 */
function passthroughClaim(upstream: UpstreamState, inputResponses: unknown): { claim: ResumeClaim } | { problem: ClaimProblem } {
  const responses = inputResponses ?? {};
  if (typeof responses !== 'object' || responses === null || Array.isArray(responses)) return { problem: 'invalid_responses' };
  const kept: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(upstream.requests ?? {})) {
    if (!Object.hasOwn(responses, key)) continue;
    const answer = (responses as Record<string, unknown>)[key];
    if (!(ANSWER_SCHEMAS[method] ?? []).some((schema) => schema.safeParse(answer).success)) return { problem: 'invalid_responses' };
    kept[key] = answer;
  }
  // Nothing waits in memory, so there is nothing to let go of.
  return { claim: { pendingId: '', inputResponses: kept, upstream, abandon: () => undefined } };
}

/**
 * A session-era request as the stateless revision writes it: URL-mode elicitations lost their
 * `elicitationId` (changelog: the retry, not a completion notification, tells the outcome).
 */
function modernParams(request: JSONRPCRequest): unknown {
  const params = request.params as Record<string, unknown> | undefined;
  if (request.method !== 'elicitation/create' || params?.mode !== 'url' || !('elicitationId' in params)) return params;
  const { elicitationId: _dropped, ...rest } = params;
  return rest;
}

/** Has the client declared the capability `request` needs (client/elicitation §capabilities: `{}` means form)? */
function declares(capabilities: Record<string, unknown> | undefined, request: JSONRPCRequest): boolean {
  const caps = capabilities ?? {};
  const has = (name: string) => typeof caps[name] === 'object' && caps[name] !== null;
  switch (request.method) {
    case 'elicitation/create': {
      if (!has('elicitation')) return false;
      const elicitation = caps.elicitation as Record<string, unknown>;
      const mode = (request.params as { mode?: unknown } | undefined)?.mode ?? 'form';
      if (mode === 'url') return elicitation.url !== undefined;
      return elicitation.form !== undefined || Object.keys(elicitation).length === 0;
    }
    case 'sampling/createMessage':
      return has('sampling');
    case 'roots/list':
      return has('roots');
    default:
      return false;
  }
}
