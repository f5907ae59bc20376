// Row shape and mapping shared by the SQLite and PostgreSQL stores: both schemas use the same column names and types.
import type { AuditQuery, StoredAuditRecord } from '../ports/index.js';

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

/** The scalar filters of an audit query: `column operator`, to be completed by the dialect's placeholder, and the value. */
export function auditComparisons(filter: AuditQuery): [comparison: string, value: string | number][] {
  const comparisons: [string, string | number | undefined][] = [
    ['ts >=', filter.since],
    ['ts <=', filter.until],
    ['seq >', filter.afterSeq],
    ['sub =', filter.sub],
    ['tool =', filter.tool],
  ];
  return comparisons.filter((c): c is [string, string | number] => c[1] !== undefined);
}
