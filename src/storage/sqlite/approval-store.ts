import type { ApprovalDecision, ApprovalFilter, ApprovalRecord, ApprovalStatus, ApprovalStore, CallKey } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';

interface Row {
  id: string;
  status: string;
  level: string;
  requester_json: string;
  server: string;
  target: string;
  method: string;
  args_json: string;
  args_hash: string;
  reason: string | null;
  policy: string | null;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  decided_by: string | null;
  decided_via: string | null;
  note: string | null;
  break_glass: number;
  used_at: number | null;
  used_by: string | null;
  client: string;
  any_client: number;
  args_format: string;
  args_masked: number;
}

/** Stored for "no client id": the column is part of a unique index, where NULLs would never collide. */
const clientKey = (client: string | undefined): string => client ?? '';

const opt = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

function fromRow(row: Row): ApprovalRecord {
  return {
    id: row.id,
    status: row.status as ApprovalStatus,
    level: row.level as ApprovalRecord['level'],
    requester: JSON.parse(row.requester_json) as ApprovalRecord['requester'],
    server: row.server,
    target: row.target,
    method: row.method,
    args: JSON.parse(row.args_json) as unknown,
    argsHash: row.args_hash,
    reason: opt(row.reason),
    policy: opt(row.policy),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedAt: opt(row.decided_at),
    decidedBy: opt(row.decided_by),
    decidedVia: opt(row.decided_via) as ApprovalRecord['decidedVia'],
    note: opt(row.note),
    breakGlass: row.break_glass === 1,
    anyClient: row.any_client === 1,
    argsFormat: row.args_format === 'exact-v1' ? 'exact-v1' : 'redacted',
    argsMasked: row.args_masked === 1,
    usedAt: opt(row.used_at),
    usedBy: opt(row.used_by),
  };
}

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
        .run(
          r.id,
          r.level,
          r.requester.sub,
          JSON.stringify(r.requester),
          client,
          r.server,
          r.target,
          r.method,
          JSON.stringify(r.args ?? null),
          r.argsFormat,
          r.argsMasked ? 1 : 0,
          r.argsHash,
          r.reason ?? null,
          r.policy ?? null,
          r.createdAt,
          r.expiresAt,
        );
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
      .run(d.status, d.at, d.by, d.via, d.note ?? null, d.breakGlass ? 1 : 0, d.status === 'approved' && d.anyClient ? 1 : 0, id, d.at);
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
