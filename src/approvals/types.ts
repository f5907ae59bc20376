import type { ApprovalChannel } from '../storage/index.js';

/**
 * A person deciding an approval request. Never an agent: the CLI and the console are the only
 * ways in (plus the MCP client's form, only with `approvals.dangerouslyAllowFormConfirm`).
 */
export interface Approver {
  sub: string;
  groups: readonly string[];
  via: ApprovalChannel;
  /** Console: when the person last presented a second factor (ms since epoch). */
  mfaAt?: number | undefined;
  /** CLI: the operating-system account that ran the command (for the audit record). */
  osUser?: string | undefined;
}

export interface PeopleList {
  users: readonly string[];
  groups: readonly string[];
}

export interface ApprovalSettings {
  ttlMs: number;
  waitMs: number;
  progressIntervalMs: number;
  /** Approver role per server name; `*` applies to every server. */
  approvers: Readonly<Record<string, PeopleList>>;
  breakGlass: PeopleList & { minReasonLength: number };
  /** Where people approve: `<publicUrl>/console/approvals/<id>`. */
  publicUrl: string;
  /**
   * Let the MCP client's own form elicitation satisfy the confirm tier. The client is
   * untrusted (it can answer "yes" itself), so this is off by default and warned about.
   */
  dangerouslyAllowFormConfirm: boolean;
}

/** Stable reason ids for refused approval actions (audited as approval.refused). */
export const ApprovalRefusal = {
  NotFound: 'approval_not_found',
  NotPending: 'approval_not_pending',
  Expired: 'approval_expired',
  SelfApproval: 'self_approval',
  NotAnApprover: 'not_an_approver',
  BreakGlassNotAllowed: 'break_glass_not_allowed',
  BreakGlassReasonRequired: 'break_glass_reason_required',
  NotSignedIn: 'not_signed_in',
  AgentToken: 'agent_token',
  MfaRequired: 'mfa_required',
  BadCsrf: 'csrf_failed',
  /** Signed in, but conditional access refuses the console from here (e.g. the network). */
  ConditionalAccess: 'conditional_access',
  /** The person named is a disabled account in the users store. */
  UserDisabled: 'user_disabled',
  /** Some arguments are hidden (held credentials, or a request from before exact arguments were kept) and the approver did not acknowledge approving them unseen. */
  HiddenNotAcknowledged: 'hidden_arguments_not_acknowledged',
  /** The stored arguments do not hash to what the approval binds: what would be shown is not what would run. */
  ArgumentsMismatch: 'arguments_mismatch',
} as const;
export type ApprovalRefusalReason = (typeof ApprovalRefusal)[keyof typeof ApprovalRefusal];

/** An approval action that was refused. `message` is safe to show the person who tried. */
export class ApprovalActionError extends Error {
  constructor(
    readonly reason: ApprovalRefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalActionError';
  }
}
