import { createHash } from 'node:crypto';
import type { OAuthStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';

/** SHA-256 of an artifact id: lookups work, but the table holds no usable code or token. */
export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * oidc-provider artifacts in SQLite. The payload is stored without its `jti` (the id), which is
 * put back from the caller's id on read: knowing the row is not knowing the token.
 */
export class SqliteOAuthStore implements OAuthStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async upsert(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null): Promise<void> {
    const { jti: _id, ...rest } = payload;
    this.sql
      .statement(
        `INSERT INTO oauth_artifacts (model, id_hash, payload, grant_id, account_id, client_id, uid, user_code, consumed_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
         ON CONFLICT (model, id_hash) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, account_id = excluded.account_id,
           client_id = excluded.client_id, uid = excluded.uid, user_code = excluded.user_code, expires_at = excluded.expires_at`,
      )
      .run(model, hashId(id), JSON.stringify(rest), model === 'Grant' ? id : str(payload.grantId), str(payload.accountId), str(payload.clientId ?? payload.client_id), str(payload.uid), str(payload.userCode), expiresAt);
  }

  #read(row: { payload: string; consumed_at: number | null; expires_at: number | null } | undefined, id: string | undefined): Record<string, unknown> | undefined {
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at <= Date.now()) return undefined;
    const payload = JSON.parse(row.payload) as Record<string, unknown>;
    if (id !== undefined && payload.kind !== undefined) payload.jti = id;
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
    return payload;
  }

  async find(model: string, id: string): Promise<Record<string, unknown> | undefined> {
    const row = this.sql.statement('SELECT payload, consumed_at, expires_at FROM oauth_artifacts WHERE model = ? AND id_hash = ?').get(model, hashId(id)) as
      | { payload: string; consumed_at: number | null; expires_at: number | null }
      | undefined;
    return this.#read(row, id);
  }

  async findByUid(model: string, uid: string): Promise<Record<string, unknown> | undefined> {
    // Sessions are looked up by uid; the session id itself (the cookie value) is not recoverable
    // here, so the model's own jti is kept for this one lookup path.
    const row = this.sql.statement('SELECT payload, consumed_at, expires_at FROM oauth_artifacts WHERE model = ? AND uid = ?').get(model, uid) as
      | { payload: string; consumed_at: number | null; expires_at: number | null }
      | undefined;
    return this.#read(row, undefined);
  }

  async findByUserCode(model: string, userCode: string): Promise<Record<string, unknown> | undefined> {
    const row = this.sql.statement('SELECT payload, consumed_at, expires_at FROM oauth_artifacts WHERE model = ? AND user_code = ?').get(model, userCode) as
      | { payload: string; consumed_at: number | null; expires_at: number | null }
      | undefined;
    return this.#read(row, undefined);
  }

  async consume(model: string, id: string): Promise<void> {
    this.sql.statement('UPDATE oauth_artifacts SET consumed_at = ? WHERE model = ? AND id_hash = ?').run(Date.now(), model, hashId(id));
  }

  async destroy(model: string, id: string): Promise<void> {
    this.sql.statement('DELETE FROM oauth_artifacts WHERE model = ? AND id_hash = ?').run(model, hashId(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.sql.statement('DELETE FROM oauth_artifacts WHERE grant_id = ?').run(grantId);
  }

  async deleteByAccount(accountId: string): Promise<number> {
    return Number(this.sql.statement("DELETE FROM oauth_artifacts WHERE account_id = ? AND model <> 'Client'").run(accountId).changes);
  }

  async deleteByClient(clientId: string): Promise<number> {
    return Number(this.sql.statement("DELETE FROM oauth_artifacts WHERE client_id = ? AND model <> 'Client'").run(clientId).changes);
  }

  async grantIds(accountId: string, clientId?: string): Promise<string[]> {
    // Grant ids are not bearer values (nothing can be redeemed with one), so they are kept.
    const rows = (
      clientId === undefined
        ? this.sql.statement("SELECT grant_id FROM oauth_artifacts WHERE model = 'Grant' AND account_id = ?").all(accountId)
        : this.sql.statement("SELECT grant_id FROM oauth_artifacts WHERE model = 'Grant' AND account_id = ? AND client_id = ?").all(accountId, clientId)
    ) as { grant_id: string }[];
    return rows.map((r) => r.grant_id);
  }

  async purgeExpired(now: number): Promise<number> {
    return Number(this.sql.statement('DELETE FROM oauth_artifacts WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now).changes);
  }
}
