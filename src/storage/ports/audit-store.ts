/** One row of the audit table. `hash` chains it to the row before it (see src/audit/chain.ts). */
export interface StoredAuditRecord {
  seq: number;
  ts: number;
  kind: string;
  /** Canonical JSON of the record body. */
  body: string;
  prevHash: string;
  hash: string;
}

export interface NewAuditEntry {
  ts: number;
  kind: string;
  body: string;
}

/** `prevHash` of the first record: the chain starts here in every store. */
export const GENESIS_HASH = '0'.repeat(64);

export type AuditLinker = (prevHash: string, seq: number, entry: NewAuditEntry) => StoredAuditRecord;

export interface StoredCheckpoint {
  seq: number;
  ts: number;
  hash: string;
  kid: string;
  /** Compact JWS over {seq, hash, ts}. */
  signature: string;
}

export interface AuditQuery {
  since?: number;
  until?: number;
  kinds?: string[];
  /** Matches `body.actor.sub`. */
  sub?: string;
  /** Matches `body.target.tool` (qualified server__tool). */
  tool?: string;
  limit?: number;
  afterSeq?: number;
}

export interface AuditStore {
  /** The last record, or undefined for an empty log. */
  head(): Promise<Pick<StoredAuditRecord, 'seq' | 'hash'> | undefined>;
  /**
   * Appends a batch in one durable transaction and resolves only after it is on disk. The
   * head is read inside the transaction and each entry chained with `link`, so several
   * processes (gateway, CLI) can append to one chain without forking it.
   */
  appendChained(entries: readonly NewAuditEntry[], link: AuditLinker): Promise<StoredAuditRecord[]>;
  addCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  /** Rows in physical `seq` order from `fromSeq` (inclusive). */
  scan(fromSeq: number, limit: number): Promise<StoredAuditRecord[]>;
  query(filter: AuditQuery): Promise<StoredAuditRecord[]>;
  checkpoints(): Promise<StoredCheckpoint[]>;
  count(): Promise<number>;
}
