// Row shape and mapping shared by the SQLite and PostgreSQL stores: both schemas use the same column names and types.
import type { StoredAuditRecord } from '../ports/index.js';

export interface Row {
  seq: number;
  ts: number;
  kind: string;
  body: string;
  prev_hash: string;
  hash: string;
}

export const fromRow = (r: Row): StoredAuditRecord => ({ seq: r.seq, ts: r.ts, kind: r.kind, body: r.body, prevHash: r.prev_hash, hash: r.hash });
export const COLUMNS = 'seq, ts, kind, body, prev_hash, hash';
