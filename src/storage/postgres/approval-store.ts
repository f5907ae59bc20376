import type { ApprovalDecision, ApprovalFilter, ApprovalRecord, ApprovalStore, CallKey } from '../ports/index.js';
import { approvalFromRow, clientKey, pendingValues, POSTGRES_APPROVALS, type PostgresApprovalRow as Row } from '../rows/approval-row.js';
import type { PostgresDatabase } from './database.js';

const fromRow = (row: Row): ApprovalRecord => approvalFromRow(row, POSTGRES_APPROVALS);

export class PostgresApprovalStore implements ApprovalStore {
  constructor(private readonly db: PostgresDatabase) {}

  async createOrGetPending(r: ApprovalRecord): Promise<{ record: ApprovalRecord; created: boolean }> {
    const client = clientKey(r.requester.client);
    const key = [r.requester.sub, client, r.target, r.argsHash];
    return this.db.transaction(async (tx) => {
      // A pending request past its expiry no longer holds the slot.
      await tx.query(
        "UPDATE approvals SET status = 'expired' WHERE requester = $1 AND client = $2 AND target = $3 AND args_hash = $4 AND status = 'pending' AND expires_at <= $5",
        [...key, r.createdAt],
      );
      // A concurrent insert for the same call waits on the unique index, then does nothing; the
      // SELECT after it (a new snapshot, READ COMMITTED) sees the winner's row.
      const inserted = await tx.query(
        `INSERT INTO approvals (id, status, level, requester, requester_json, client, server, target, method, args_json, args_format, args_masked, args_hash, reason_json, policy, created_at, expires_at, break_glass, any_client)
         VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, FALSE, FALSE)
         ON CONFLICT (requester, client, target, args_hash) WHERE status = 'pending' DO NOTHING`,
        pendingValues(r, POSTGRES_APPROVALS),
      );
      const row = (
        await tx.query<Row>("SELECT * FROM approvals WHERE requester = $1 AND client = $2 AND target = $3 AND args_hash = $4 AND status = 'pending'", key)
      ).rows[0] as Row;
      return { record: fromRow(row), created: inserted.rowCount === 1 };
    });
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const row = await this.db.row<Row>('SELECT * FROM approvals WHERE id = $1', [id]);
    return row ? fromRow(row) : undefined;
  }

  async latest(call: CallKey): Promise<ApprovalRecord | undefined> {
    const row = await this.db.row<Row>(
      'SELECT * FROM approvals WHERE requester = $1 AND target = $2 AND args_hash = $3 ORDER BY created_at DESC, ord DESC LIMIT 1',
      [call.sub, call.target, call.argsHash],
    );
    return row ? fromRow(row) : undefined;
  }

  async findUsable(call: CallKey, now: number): Promise<ApprovalRecord | undefined> {
    const row = await this.db.row<Row>(
      "SELECT * FROM approvals WHERE requester = $1 AND target = $2 AND args_hash = $3 AND status = 'approved' AND expires_at > $4 AND (client = $5 OR any_client) ORDER BY decided_at DESC LIMIT 1",
      [call.sub, call.target, call.argsHash, now, clientKey(call.client)],
    );
    return row ? fromRow(row) : undefined;
  }

  async list(filter: ApprovalFilter): Promise<ApprovalRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status && filter.status.length > 0) {
      params.push([...filter.status]);
      where.push(`status = ANY($${params.length}::text[])`);
    }
    if (filter.requester) {
      params.push(filter.requester);
      where.push(`requester = $${params.length}`);
    }
    params.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
    const sql = `SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, ord DESC LIMIT $${params.length}`;
    return (await this.db.rows<Row>(sql, params)).map(fromRow);
  }

  async decide(id: string, d: ApprovalDecision): Promise<boolean> {
    const result = await this.db.query(
      "UPDATE approvals SET status = $1, decided_at = $2, decided_by = $3, decided_via = $4, note_json = $5, break_glass = $6, any_client = $7 WHERE id = $8 AND status = 'pending' AND expires_at > $2",
      [d.status, d.at, d.by, d.via, POSTGRES_APPROVALS.text(d.note), d.breakGlass, d.status === 'approved' && d.anyClient, id],
    );
    return result.rowCount === 1;
  }

  async consume(id: string, requestId: string, at: number, client: string | undefined): Promise<boolean> {
    // One compare-and-set: status, expiry and the client binding are checked in the same statement.
    const result = await this.db.query(
      "UPDATE approvals SET status = 'used', used_at = $1, used_by = $2 WHERE id = $3 AND status = 'approved' AND expires_at > $1 AND (client = $4 OR any_client)",
      [at, requestId, id, clientKey(client)],
    );
    return result.rowCount === 1;
  }
}
