import { argumentsProblem, AuditKind, type AuditBody, type AuditLog, describeCallOf, MAX_CANONICAL_DEPTH } from '../../audit/index.js';
import { InvalidArgumentsError, isGatehouseError, OutcomeUnrecordedError, RefusedError } from '../../errors/index.js';
import type { CallContext, Stage } from '../types.js';

/**
 * The who/what part shared by every record of a request. Arguments are recorded once: in the
 * intent record, or in the outcome record when there was no intent (denials, lists). Total:
 * whatever the client sent, it describes the call without throwing.
 */
export function describeCall(ctx: CallContext, withArgs = true): AuditBody {
  const { principal, origin, op } = ctx;
  return describeCallOf({ requestId: ctx.requestId, who: principal, origin, method: op.method, target: op, args: withArgs ? op.args : undefined });
}

/**
 * Arguments the audit log cannot bind exactly are refused before anything else looks at them.
 * JSON-RPC -32602 with the stable code `mcp.invalid_arguments`.
 */
function refuseUnrecordable(args: unknown): void {
  const problem = args === undefined ? undefined : argumentsProblem(args);
  if (problem === 'too_deep') {
    throw new InvalidArgumentsError(
      `The arguments are nested more than ${MAX_CANONICAL_DEPTH} levels deep; Gatehouse refuses calls it cannot record exactly.`,
      { data: { problem } },
    );
  }
  if (problem === 'non_finite_number') {
    throw new InvalidArgumentsError(
      'The arguments contain a number JSON cannot represent (out of range, e.g. 1e400); Gatehouse refuses calls it cannot record exactly.',
      { data: { problem } },
    );
  }
}

/**
 * Outermost stage: whatever happens inside — allowed, denied, failed, cancelled — one record
 * says so. Denials are recorded here too, so a refused call leaves a trace without having
 * needed an intent record. Arguments with no exact record (too deep, non-finite numbers) are
 * refused here, first, and that refusal is recorded like any other.
 */
export function auditOutcomeStage(audit: AuditLog): Stage {
  return {
    name: 'audit-outcome',
    async run(ctx, next) {
      try {
        refuseUnrecordable(ctx.op.args);
        const result = await next();
        const isError = (result as { isError?: unknown }).isError === true;
        // A pending approval comes back as a tool result with isError; it is not a tool failure.
        const pendingApproval = (ctx.notes.approval as { status?: unknown } | undefined)?.status === 'pending';
        const recorded = audit.append(
          ctx.op.action === 'list' ? AuditKind.List : AuditKind.CallResult,
          {
            ...describeCall(ctx, ctx.intentSeq === undefined),
            ...(ctx.intentSeq !== undefined ? { intent: ctx.intentSeq } : {}),
            decision: ctx.decision ? { effect: ctx.decision.effect, policy: ctx.decision.policy } : undefined,
            outcome: pendingApproval
              ? { status: 'denied', code: 'approval.pending' }
              : { status: isError ? 'error' : 'ok', ...(isError ? { code: 'tool.error' } : {}) },
            latencyMs: Date.now() - ctx.startedAt,
            ...(Object.keys(ctx.notes).length > 0 ? { notes: ctx.notes } : {}),
          },
          { durable: audit.durableOutcomes === true },
        );
        if (audit.durableOutcomes === true)
          await recorded.catch((error: unknown) => {
            // The tool has run: this is not "nothing happened, retry" (store.unavailable).
            throw new OutcomeUnrecordedError({ cause: error });
          });
        return result;
      } catch (error) {
        const denied = error instanceof RefusedError;
        const cancelled = ctx.signal.aborted;
        const recorded = audit.append(
          denied ? AuditKind.CallDenied : AuditKind.CallResult,
          {
            ...describeCall(ctx, ctx.intentSeq === undefined),
            ...(ctx.intentSeq !== undefined ? { intent: ctx.intentSeq } : {}),
            decision: denied
              ? { effect: 'deny', reason: error.reason, policy: (error.data?.policy as string | undefined) ?? ctx.decision?.policy }
              : ctx.decision
                ? { effect: ctx.decision.effect, policy: ctx.decision.policy }
                : undefined,
            outcome: {
              status: denied ? 'denied' : cancelled ? 'cancelled' : 'error',
              code: isGatehouseError(error) ? error.code : 'internal',
              message: (error as Error).message,
            },
            latencyMs: Date.now() - ctx.startedAt,
            ...(Object.keys(ctx.notes).length > 0 ? { notes: ctx.notes } : {}),
          },
          { durable: audit.durableOutcomes === true },
        );
        // The refusal or failure is answered after its record, like a result; a record that
        // cannot be written is logged by the audit log and does not replace the error.
        if (audit.durableOutcomes === true) await recorded.catch(() => undefined);
        throw error;
      }
    },
  };
}
