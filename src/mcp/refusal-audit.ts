import { actorOf, AuditKind, describeCallOf, type AuditLog } from '../audit/index.js';
import { isGatehouseError, RateLimitedError, RefusedError } from '../errors/index.js';
import { describeCall, type CallContext } from '../pipeline/index.js';
import { CoalescedAudit } from './coalesced-audit.js';
import { isListMethod } from './resolve-operation.js';

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

/**
 * The audit records of requests the pipeline does not record itself: list requests, and
 * requests that failed before they became a call. What costs nothing to cause — any list, any
 * failed list, any request over a rate limit — is coalesced; other refusals (an unknown tool or
 * method) get a record each, and there are only as many of those as the rate limits let through.
 */
export class RequestAudit {
  readonly #coalesced: CoalescedAudit;

  constructor(private readonly audit: AuditLog) {
    this.#coalesced = new CoalescedAudit(audit);
  }

  /** A list request answered. */
  listed(ctx: CallContext): void {
    this.#coalesced.record({
      kind: AuditKind.List,
      key: [ctx.origin.sessionId, ctx.principal.sub, ctx.op.method, 'ok'],
      body: { ...describeCall(ctx), outcome: { status: 'ok' }, latencyMs: Date.now() - ctx.startedAt },
    });
  }

  /** A request that failed outside the pipeline (whose audit-outcome stage records everything inside it). */
  failed(ctx: CallContext, method: string, error: unknown): void {
    const list = isListMethod(method);
    // A resolved call went through the pipeline, whose audit-outcome stage recorded it.
    if (!list && ctx.op.server !== '') return;
    if (!list && !(error instanceof RateLimitedError)) {
      this.#refused(ctx, error);
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
        actor: actorOf(principal, origin),
        method: bucket,
        ...(error instanceof RefusedError ? { decision: { effect: 'deny', reason: error.reason } } : {}),
        outcome: { status: denied ? 'denied' : 'error', code, message: (error as Error).message },
      },
    });
  }

  /** Writes the coalesced records still open (shutdown: before the audit log closes). */
  flush(): void {
    this.#coalesced.flush();
  }

  /** Requests refused before they became an operation (unknown method, tool or resource) still leave a record. */
  #refused(ctx: CallContext, error: unknown): void {
    const { principal, origin, params } = ctx;
    const code = isGatehouseError(error) ? error.code : 'internal';
    void this.audit.append(
      AuditKind.CallDenied,
      {
        ...describeCallOf({
          requestId: ctx.requestId,
          who: principal,
          origin,
          method: ctx.op.method,
          target: typeof params.name === 'string' ? { tool: params.name } : typeof params.uri === 'string' ? { resource: params.uri } : {},
          args: params.arguments,
        }),
        decision: { effect: 'deny', reason: code },
        outcome: { status: 'denied', code, message: (error as Error).message },
        latencyMs: Date.now() - ctx.startedAt,
      },
      { durable: false },
    );
  }
}
