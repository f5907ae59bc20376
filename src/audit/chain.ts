import { createHash } from 'node:crypto';
import type { StoredAuditRecord } from '../storage/index.js';

// The first record's prev_hash is the storage port's: every store starts the chain there.
export { GENESIS_HASH } from '../storage/ports/audit-store.js';

export interface UnchainedRecord {
  ts: number;
  kind: string;
  /** Canonical JSON text of the body. */
  body: string;
}

/**
 * hash = SHA-256(prev_hash ‖ seq ‖ ts ‖ kind ‖ body), fields separated by newlines (none of
 * them can contain a raw newline: canonical JSON escapes it, and kind is an identifier).
 * Binding seq and prev_hash makes edits, deletions and reorderings all break the chain.
 */
export function linkRecord(prevHash: string, seq: number, entry: UnchainedRecord): StoredAuditRecord {
  const hash = createHash('sha256').update(`${prevHash}\n${seq}\n${entry.ts}\n${entry.kind}\n${entry.body}`).digest('hex');
  return { seq, ts: entry.ts, kind: entry.kind, body: entry.body, prevHash, hash };
}
