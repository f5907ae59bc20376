/** Where an approval request stands. `expired` is also how a pending or approved record past `expiresAt` reads. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'used';

/** How a decision was made: the CLI, the web console, or an MCP elicitation answered by the person at the client. */
export type ApprovalChannel = 'cli' | 'console' | 'elicitation';

/** A request for a human decision about one exact call. */
export interface ApprovalRecord {
  /** `apr_` + 128 random bits. */
  id: string;
  status: ApprovalStatus;
  /** `four-eyes`: another human with the approver role; `confirm`: the requesting human (or an approver). */
  level: 'four-eyes' | 'confirm';
  requester: { sub: string; groups: string[]; client?: string | undefined; session?: string | undefined; ip?: string | undefined };
  server: string;
  /** Qualified target: `server__tool`, `server__prompt`, or the resource URI. */
  target: string;
  method: string;
  /** Redacted copy of the arguments, for people to read. */
  args: unknown;
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
  at: number;
}

/**
 * Durable approval requests. The state changes that matter for safety are single atomic
 * compare-and-set operations, so two processes (gateway, CLI) or two concurrent calls can
 * never both win: a decision applies only to a pending, unexpired request; a use only to an
 * approved, unexpired, unused one.
 */
export interface ApprovalStore {
  /** Inserts `record` unless a pending, unexpired request for the same requester, target and arguments exists; returns the one in force. */
  createOrGetPending(record: ApprovalRecord): Promise<{ record: ApprovalRecord; created: boolean }>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** The most recent request for exactly this call (any status). */
  latest(sub: string, target: string, argsHash: string): Promise<ApprovalRecord | undefined>;
  /** An approved, unused, unexpired approval for exactly this call. */
  findUsable(sub: string, target: string, argsHash: string, now: number): Promise<ApprovalRecord | undefined>;
  list(filter: ApprovalFilter): Promise<ApprovalRecord[]>;
  /** pending → approved/denied, only while pending and unexpired. True when this call made the change. */
  decide(id: string, decision: ApprovalDecision): Promise<boolean>;
  /** approved → used, only while approved, unused and unexpired. True for exactly one caller. */
  consume(id: string, requestId: string, at: number): Promise<boolean>;
}
