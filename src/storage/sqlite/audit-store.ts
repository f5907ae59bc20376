import type { AuditLinker, AuditQuery, AuditStore, NewAuditEntry, StoredAuditRecord, StoredCheckpoint } from '../ports/index.js';
import { GENESIS_HASH } from '../ports/audit-store.js';
import type { SqliteDatabase } from './database.js';
import { type Row, fromRow, COLUMNS, auditComparisons } from '../rows/audit-row.js';

export class SqliteAuditStore implements AuditStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async head(): Promise<Pick<StoredAuditRecord, 'seq' | 'hash'> | undefined> {
    const row = this.sql.statement('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    return row ? { seq: row.seq, hash: row.hash } : undefined;
  }

  async appendChained(entries: readonly NewAuditEntry[], link: AuditLinker): Promise<StoredAuditRecord[]> {
    if (entries.length === 0) return [];
    const insert = this.sql.statement(`INSERT INTO audit_records (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`);
    const headStmt = this.sql.statement('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
    return this.sql.transaction(() => {
      const head = headStmt.get() as { seq: number; hash: string } | undefined;
      let prevHash = head?.hash ?? GENESIS_HASH;
      let seq = head?.seq ?? 0;
      const stored: StoredAuditRecord[] = [];
      for (const entry of entries) {
        const record = link(prevHash, ++seq, entry);
        insert.run(record.seq, record.ts, record.kind, record.body, record.prevHash, record.hash);
        stored.push(record);
        prevHash = record.hash;
      }
      return stored;
    });
  }

  async addCheckpoint(c: StoredCheckpoint): Promise<void> {
    this.sql
      .statement('INSERT OR IGNORE INTO audit_checkpoints (seq, ts, hash, kid, signature) VALUES (?, ?, ?, ?, ?)')
      .run(c.seq, c.ts, c.hash, c.kid, c.signature);
  }

  async scan(fromSeq: number, limit: number): Promise<StoredAuditRecord[]> {
    const rows = this.sql.statement(`SELECT ${COLUMNS} FROM audit_records WHERE seq >= ? ORDER BY seq LIMIT ?`).all(fromSeq, limit) as unknown as Row[];
    return rows.map(fromRow);
  }

  async query(filter: AuditQuery): Promise<StoredAuditRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    for (const [comparison, value] of auditComparisons(filter)) {
      where.push(`${comparison} ?`);
      params.push(value);
    }
    if (filter.kinds && filter.kinds.length > 0) {
      where.push(`kind IN (${filter.kinds.map(() => '?').join(', ')})`);
      params.push(...filter.kinds);
    }
    const sql = `SELECT ${COLUMNS} FROM audit_records${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`;
    params.push(filter.limit ?? 1000);
    return (this.sql.db.prepare(sql).all(...params) as unknown as Row[]).map(fromRow);
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    return this.sql.statement('SELECT seq, ts, hash, kid, signature FROM audit_checkpoints ORDER BY seq').all() as unknown as StoredCheckpoint[];
  }

  async count(): Promise<number> {
    return (this.sql.statement('SELECT count(*) AS n FROM audit_records').get() as { n: number }).n;
  }
}
