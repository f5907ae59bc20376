/**
 * Pinned upstream tool definitions. Each row is one definition (server, tool, digest) Gatehouse
 * has seen; at most one per tool is `approved` — the one agents may see and call. A definition
 * seen later that differs is `pending` (quarantined) until an operator approves it, which
 * moves the previously approved one to `superseded`.
 */
export type ToolPinState = 'approved' | 'pending' | 'superseded';

/**
 * Why a row has its state. Approved: `first-start` (pinned with the server's first catalog),
 * `trust-on-first-use` (pinned the first time the tool appeared), `operator` (approved by a
 * person). Pending: `new` (a tool that appeared after the server's first catalog), `changed`
 * (differs from the approved definition), `poisoned` (its descriptions read like instructions).
 */
export type ToolPinReason = 'first-start' | 'trust-on-first-use' | 'operator' | 'new' | 'changed' | 'poisoned';

export interface ToolPinRecord {
  server: string;
  tool: string;
  /** SHA-256 (hex) of the canonical JSON of the definition. */
  digest: string;
  /** The canonical JSON the digest covers (name, title, description, schemas, annotations). */
  definition: string;
  state: ToolPinState;
  reason: ToolPinReason;
  /** Ids of the description-scan findings for this definition (never the matched text). */
  findings: string[];
  firstSeenAt: number;
  decidedAt?: number | undefined;
  /** Who approved it: a user (`--as`), or `gatehouse` for automatic pins. */
  decidedBy?: string | undefined;
}

export type NewToolPin = Omit<ToolPinRecord, 'decidedAt' | 'decidedBy'> & { decidedAt?: number | undefined; decidedBy?: string | undefined };

export interface ToolPinStore {
  /** Every row for `server` (all servers when undefined), newest first. */
  list(server?: string): Promise<ToolPinRecord[]>;
  /** The rows of one tool, newest first. */
  forTool(server: string, tool: string): Promise<ToolPinRecord[]>;
  /** The approved digest of every tool of `server`. */
  approved(server: string): Promise<Map<string, string>>;
  /**
   * Inserts the row unless that definition is already recorded; a `superseded` definition
   * recorded again as pending becomes pending. True when a row was inserted or reopened.
   */
  record(pin: NewToolPin): Promise<boolean>;
  /**
   * Makes `digest` the approved definition of the tool in one transaction: every other approved
   * or pending definition of the tool becomes `superseded`. False when no such row exists.
   */
  approve(server: string, tool: string, digest: string, by: string, at: number): Promise<boolean>;
  /** True once the server's first catalog was pinned (the `first-start` policy needs to know). */
  serverSeen(server: string): Promise<boolean>;
  markServerSeen(server: string, at: number): Promise<void>;
}
