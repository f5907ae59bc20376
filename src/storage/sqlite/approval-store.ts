import type { ApprovalDecision, ApprovalFilter, ApprovalRecord, ApprovalStore, CallKey } from '../ports/index.js';
import { approvalFromRow, clientKey, pendingValues, SQLITE_APPROVALS, type SqliteApprovalRow as Row } from '../rows/approval-row.js';
import type { SqliteDatabase } from './database.js';

const fromRow = (row: Row): ApprovalRecord => approvalFromRow(row, SQLITE_APPROVALS);

export class SqliteApprovalStore implements ApprovalStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async createOrGetPending(r: ApprovalRecord): Promise<{ record: ApprovalRecord; created: boolean }> {
    const client = clientKey(r.requester.client);
    return this.sql.transaction(() => {
      // A pending request past its expiry no longer holds the slot.
      this.sql
        .statement(
          "UPDATE approvals SET status = 'expired' WHERE requester = ? AND client = ? AND target = ? AND args_hash = ? AND status = 'pending' AND expires_at <= ?",
        )
        .run(r.requester.sub, client, r.target, r.argsHash, r.createdAt);
      const inserted = this.sql
        .statement(
          `INSERT INTO approvals (id, status, level, requester, requester_json, client, server, target, method, args_json, args_format, args_masked, args_hash, reason, policy, created_at, expires_at, break_glass, any_client)
           VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)
           ON CONFLICT (requester, client, target, args_hash) WHERE status = 'pending' DO NOTHING`,
        )
        .run(...pendingValues(r, SQLITE_APPROVALS));
      const row = this.sql
        .statement("SELECT * FROM approvals WHERE requester = ? AND client = ? AND target = ? AND args_hash = ? AND status = 'pending'")
        .get(r.requester.sub, client, r.target, r.argsHash) as unknown as Row;
      return { record: fromRow(row), created: Number(inserted.changes) === 1 };
    });
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const row = this.sql.statement('SELECT * FROM approvals WHERE id = ?').get(id) as unknown as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async latest(call: CallKey): Promise<ApprovalRecord | undefined> {
    const row = this.sql
      .statement('SELECT * FROM approvals WHERE requester = ? AND target = ? AND args_hash = ? ORDER BY created_at DESC, rowid DESC LIMIT 1')
      .get(call.sub, call.target, call.argsHash) as unknown as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async findUsable(call: CallKey, now: number): Promise<ApprovalRecord | undefined> {
    const row = this.sql
      .statement(
        "SELECT * FROM approvals WHERE requester = ? AND target = ? AND args_hash = ? AND status = 'approved' AND expires_at > ? AND (client = ? OR any_client = 1) ORDER BY decided_at DESC LIMIT 1",
      )
      .get(call.sub, call.target, call.argsHash, now, clientKey(call.client)) as unknown as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async list(filter: ApprovalFilter): Promise<ApprovalRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.status && filter.status.length > 0) {
      where.push(`status IN (${filter.status.map(() => '?').join(', ')})`);
      params.push(...filter.status);
    }
    if (filter.requester) {
      where.push('requester = ?');
      params.push(filter.requester);
    }
    const sql = `SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT ?`;
    const rows = this.sql.db.prepare(sql).all(...params, Math.min(Math.max(filter.limit ?? 100, 1), 1000)) as unknown as Row[];
    return rows.map(fromRow);
  }

  async decide(id: string, d: ApprovalDecision): Promise<boolean> {
    const result = this.sql
      .statement(
        "UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, decided_via = ?, note = ?, break_glass = ?, any_client = ? WHERE id = ? AND status = 'pending' AND expires_at > ?",
      )
      .run(
        d.status,
        d.at,
        d.by,
        d.via,
        SQLITE_APPROVALS.text(d.note),
        SQLITE_APPROVALS.flag(d.breakGlass),
        SQLITE_APPROVALS.flag(d.status === 'approved' && d.anyClient),
        id,
        d.at,
      );
    return Number(result.changes) === 1;
  }

  async consume(id: string, requestId: string, at: number, client: string | undefined): Promise<boolean> {
    // One compare-and-set: status, expiry and the client binding are checked in the same statement.
    const result = this.sql
      .statement(
        "UPDATE approvals SET status = 'used', used_at = ?, used_by = ? WHERE id = ? AND status = 'approved' AND expires_at > ? AND (client = ? OR any_client = 1)",
      )
      .run(at, requestId, id, at, clientKey(client));
    return Number(result.changes) === 1;
  }
}
