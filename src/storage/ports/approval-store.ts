/** Where an approval request stands. `expired` is also how a pending or approved record past `expiresAt` reads. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'used';

/**
 * How a decision was made: the CLI, the web console (also the page URL-mode elicitation sends
 * people to), or the MCP client's own form — counted only with `approvals.dangerouslyAllowFormConfirm`.
 */
export type ApprovalChannel = 'cli' | 'console' | 'elicitation';

/** A request for a human decision about one exact call. */
export interface ApprovalRecord {
  /** `apr_` + 128 random bits. */
  id: string;
  status: ApprovalStatus;
  /** `four-eyes`: another human with the approver role; `confirm`: the requesting human (or an approver). */
  level: 'four-eyes' | 'confirm';
  /** Who asked; `client` is the OAuth client the call came from (the approval is bound to it unless `anyClient`). */
  requester: { sub: string; groups: string[]; client?: string | undefined; session?: string | undefined; ip?: string | undefined };
  server: string;
  /** Qualified target: `server__tool`, `server__prompt`, or the resource URI. */
  target: string;
  method: string;
  /**
   * The arguments as people are shown them. `exact-v1`: every key, type and character of the
   * call, encoded so storage cannot lose any (src/approvals/exact-arguments.ts), with only the
   * credentials Gatehouse holds masked. `redacted`: requests filed before exact arguments were
   * kept hold the audit log's redacted copy.
   */
  args: unknown;
  argsFormat: 'exact-v1' | 'redacted';
  /** Some value in `args` is masked (a held credential): approving needs an explicit acknowledgement. */
  argsMasked: boolean;
  /** Binds the approval to the exact arguments (`hashArguments`). */
  argsHash: string;
  /** What the agent said it needs the call for (untrusted text). */
  reason?: string | undefined;
  /** The policy that asked for approval. */
  policy?: string | undefined;
  createdAt: number;
  expiresAt: number;
  decidedAt?: number | undefined;
  decidedBy?: string | undefined;
  decidedVia?: ApprovalChannel | undefined;
  note?: string | undefined;
  breakGlass: boolean;
  /** The approver released the call from any client of the requester, not only `requester.client`. */
  anyClient: boolean;
  usedAt?: number | undefined;
  /** Gateway request id of the call that used the approval. */
  usedBy?: string | undefined;
}

export interface ApprovalFilter {
  status?: readonly ApprovalStatus[];
  requester?: string;
  limit?: number;
}

export interface ApprovalDecision {
  status: 'approved' | 'denied';
  by: string;
  via: ApprovalChannel;
  note?: string | undefined;
  breakGlass: boolean;
  /** Release the call from any client of the requester (approvals only). */
  anyClient: boolean;
  at: number;
}

/** One exact call: who (user and OAuth client), what, and the arguments hash. */
export interface CallKey {
  sub: string;
  /** The requesting OAuth client id; calls without one match only requests without one. */
  client: string | undefined;
  target: string;
  argsHash: string;
}

/**
 * Durable approval requests. The state changes that matter for safety are single atomic
 * compare-and-set operations, so two processes (gateway, CLI) or two concurrent calls can
 * never both win: a decision applies only to a pending, unexpired request; a use only to an
 * approved, unexpired, unused one.
 */
export interface ApprovalStore {
  /** Inserts `record` unless a pending, unexpired request for the same requester, client, target and arguments exists; returns the one in force. */
  createOrGetPending(record: ApprovalRecord): Promise<{ record: ApprovalRecord; created: boolean }>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** The most recent request of this user for this target and arguments, from any client (any status). */
  latest(call: CallKey): Promise<ApprovalRecord | undefined>;
  /** An approved, unused, unexpired approval for exactly this call: same user, same client (unless approved for any client), target and arguments. */
  findUsable(call: CallKey, now: number): Promise<ApprovalRecord | undefined>;
  list(filter: ApprovalFilter): Promise<ApprovalRecord[]>;
  /** pending → approved/denied, only while pending and unexpired. True when this call made the change. */
  decide(id: string, decision: ApprovalDecision): Promise<boolean>;
  /**
   * approved → used, only while approved, unused, unexpired, and bound to `client` (or to any
   * client). True for exactly one caller.
   */
  consume(id: string, requestId: string, at: number, client: string | undefined): Promise<boolean>;
}
