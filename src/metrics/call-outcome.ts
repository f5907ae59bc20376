import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { isGatehouseError, RefusedError } from '../errors/index.js';
import type { CallContext } from '../pipeline/index.js';

export type CallOutcome = 'ok' | 'error' | 'denied' | 'cancelled';

/**
 * How a call ended, in the same words as its audit record: a refusal is `denied` (a pending
 * approval too), a tool result with `isError` or a thrown error is `error`, a call the client
 * cancelled is `cancelled`.
 */
export function callOutcome(ctx: CallContext, result: Result | undefined, error: unknown): CallOutcome {
  if (error !== undefined) return error instanceof RefusedError ? 'denied' : ctx.signal.aborted ? 'cancelled' : 'error';
  if ((ctx.notes.approval as { status?: unknown } | undefined)?.status === 'pending') return 'denied';
  return (result as { isError?: unknown } | undefined)?.isError === true ? 'error' : 'ok';
}

/**
 * The policy decision as a label: its effect once the authorize stage decided (a call the policy
 * allowed can still be refused later, by a rate limit: `allow` with outcome `denied`), `deny`
 * for a refusal before the policy was asked, `none` when no decision was reached.
 */
export function decisionLabel(ctx: CallContext, error: unknown): string {
  return ctx.decision?.effect ?? (error instanceof RefusedError ? 'deny' : 'none');
}

/** A stable error code (never a message, which may quote what a client or upstream sent). */
export function errorCode(error: unknown): string {
  return isGatehouseError(error) ? error.code : 'internal';
}
