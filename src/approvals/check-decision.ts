import type { ApprovalRecord } from '../storage/index.js';
import { argumentsView } from './arguments-view.js';
import { holdsApproverRole, isListed } from './holds-role.js';
import { ApprovalActionError, ApprovalRefusal, type ApprovalSettings, type Approver } from './types.js';

export interface DecisionRequest {
  decision: 'approve' | 'deny';
  /** Self-approval of a four-eyes request in an emergency; needs the break-glass role and a reason. */
  breakGlass?: boolean | undefined;
  note?: string | undefined;
  /** The approver acknowledges approving arguments that are partly hidden from them (see `ArgumentsView.hidden`). */
  acknowledgeHidden?: boolean | undefined;
  /** Release the call from any client of the requester, not only the one that asked. */
  anyClient?: boolean | undefined;
}

/**
 * May `approver` make this decision on `record`? Throws ApprovalActionError saying why not.
 *
 * - Only a pending, unexpired request can be decided.
 * - four-eyes: approving needs a different human holding the approver role for the record's
 *   server. The requester may approve their own request only as break-glass (role + reason).
 * - confirm: the requesting human confirms, or an approver does.
 * - Denying: an approver, or the requester withdrawing their own request.
 * - Approving needs arguments people can see: stored arguments that do not match the hash the
 *   approval binds are never approved; hidden values (held credentials) only with an explicit
 *   acknowledgement. Checked after the role, so who may not decide is told that first.
 */
export function checkDecision(record: ApprovalRecord, approver: Approver, request: DecisionRequest, settings: ApprovalSettings, now: number): void {
  if (record.status === 'pending' && record.expiresAt <= now)
    throw new ApprovalActionError(ApprovalRefusal.Expired, `Approval request ${record.id} expired at ${new Date(record.expiresAt).toISOString()}.`);
  if (record.status === 'expired') throw new ApprovalActionError(ApprovalRefusal.Expired, `Approval request ${record.id} has expired.`);
  if (record.status !== 'pending') throw new ApprovalActionError(ApprovalRefusal.NotPending, `Approval request ${record.id} was already ${record.status}.`);
  const self = approver.sub === record.requester.sub;
  const approverRole = holdsApproverRole(settings.approvers, record.server, approver.sub, approver.groups);
  if (request.decision === 'deny') {
    if (self || approverRole) return;
    throw new ApprovalActionError(ApprovalRefusal.NotAnApprover, `You do not hold the approver role for the server "${record.server}".`);
  }
  if (request.breakGlass) {
    if (!self || record.level !== 'four-eyes')
      throw new ApprovalActionError(ApprovalRefusal.BreakGlassNotAllowed, 'Break-glass is only for approving your own four-eyes request.');
    if (!isListed(settings.breakGlass, approver.sub, approver.groups))
      throw new ApprovalActionError(ApprovalRefusal.BreakGlassNotAllowed, 'You do not hold the break-glass role.');
    if ((request.note?.trim().length ?? 0) < settings.breakGlass.minReasonLength) {
      throw new ApprovalActionError(
        ApprovalRefusal.BreakGlassReasonRequired,
        `Break-glass needs a written reason of at least ${settings.breakGlass.minReasonLength} characters.`,
      );
    }
  } else if (!(record.level === 'confirm' && self)) {
    if (self) throw new ApprovalActionError(ApprovalRefusal.SelfApproval, 'A four-eyes request must be approved by someone other than the requester.');
    if (!approverRole) throw new ApprovalActionError(ApprovalRefusal.NotAnApprover, `You do not hold the approver role for the server "${record.server}".`);
  }
  checkArgumentsSeen(record, request);
}

/** Approving is approving what was shown: never a mismatch, and hidden values only knowingly. */
function checkArgumentsSeen(record: ApprovalRecord, request: DecisionRequest): void {
  const view = argumentsView(record);
  if (view.integrity === 'mismatch') {
    throw new ApprovalActionError(
      ApprovalRefusal.ArgumentsMismatch,
      `Approval request ${record.id} cannot be approved: its stored arguments do not match the arguments hash it binds. Deny it; the agent can ask again.`,
    );
  }
  if (view.hidden && request.acknowledgeHidden !== true) {
    throw new ApprovalActionError(
      ApprovalRefusal.HiddenNotAcknowledged,
      view.integrity === 'legacy'
        ? `Nothing was decided: request ${record.id} keeps only a redacted copy of its arguments. Approve it only if you accept values you cannot see, and say so explicitly (console: tick the acknowledgement; CLI: --acknowledge-hidden).`
        : `Nothing was decided: some arguments of request ${record.id} are hidden because they contain a credential Gatehouse holds. Approve it only if you accept values you cannot see, and say so explicitly (console: tick the acknowledgement; CLI: --acknowledge-hidden).`,
    );
  }
}
