import type { OAuthStore } from '../ports/index.js';
import { type ArtifactReadRow, artifactFromRow, artifactValues, hashId } from '../rows/oauth-artifact-row.js';
import type { PostgresDatabase } from './database.js';

/**
 * oidc-provider artifacts in PostgreSQL, as in the SQLite store: ids kept only as SHA-256, the
 * payload without its `jti`. Each write is one statement on the pool (the server's WAL does
 * the batching SQLite's group commit does by hand); `consume` is a single conditional UPDATE,
 * which row locking makes exact across nodes.
 */
export class PostgresOAuthStore implements OAuthStore {
  constructor(private readonly db: PostgresDatabase) {}

  async upsert(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null): Promise<void> {
    await this.db.query(
      `INSERT INTO oauth_artifacts (model, id_hash, payload, grant_id, account_id, client_id, uid, user_code, consumed_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)
       ON CONFLICT (model, id_hash) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, account_id = excluded.account_id,
         client_id = excluded.client_id, uid = excluded.uid, user_code = excluded.user_code, expires_at = excluded.expires_at`,
      [...artifactValues(model, id, payload, expiresAt)],
    );
  }

  #read(row: ArtifactReadRow | undefined, id: string | undefined): Record<string, unknown> | undefined {
    return artifactFromRow(row, id, Date.now());
  }

  async find(model: string, id: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.db.row<ArtifactReadRow>('SELECT payload, consumed_at, expires_at FROM oauth_artifacts WHERE model = $1 AND id_hash = $2', [
      model,
      hashId(id),
    ]);
    return this.#read(row, id);
  }

  async findByUid(model: string, uid: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.db.row<ArtifactReadRow>('SELECT payload, consumed_at, expires_at FROM oauth_artifacts WHERE model = $1 AND uid = $2 LIMIT 1', [
      model,
      uid,
    ]);
    return this.#read(row, undefined);
  }

  async findByUserCode(model: string, userCode: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.db.row<ArtifactReadRow>('SELECT payload, consumed_at, expires_at FROM oauth_artifacts WHERE model = $1 AND user_code = $2 LIMIT 1', [
      model,
      userCode,
    ]);
    return this.#read(row, undefined);
  }

  async consume(model: string, id: string): Promise<{ first: boolean; grantId: string | null }> {
    const hash = hashId(id);
    const changed = await this.db.row<{ grant_id: string | null }>(
      'UPDATE oauth_artifacts SET consumed_at = $1 WHERE model = $2 AND id_hash = $3 AND consumed_at IS NULL RETURNING grant_id',
      [Date.now(), model, hash],
    );
    if (changed) return { first: true, grantId: changed.grant_id };
    const row = await this.db.row<{ grant_id: string | null }>('SELECT grant_id FROM oauth_artifacts WHERE model = $1 AND id_hash = $2', [model, hash]);
    return { first: false, grantId: row?.grant_id ?? null };
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.db.query('DELETE FROM oauth_artifacts WHERE model = $1 AND id_hash = $2', [model, hashId(id)]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.query('DELETE FROM oauth_artifacts WHERE grant_id = $1', [grantId]);
  }

  async deleteByAccount(accountId: string): Promise<number> {
    return (await this.db.query("DELETE FROM oauth_artifacts WHERE account_id = $1 AND model <> 'Client'", [accountId])).rowCount ?? 0;
  }

  async deleteByClient(clientId: string): Promise<number> {
    return (await this.db.query("DELETE FROM oauth_artifacts WHERE client_id = $1 AND model <> 'Client'", [clientId])).rowCount ?? 0;
  }

  async grantIds(accountId: string, clientId?: string): Promise<string[]> {
    // Grant ids are not bearer values (nothing can be redeemed with one), so they are kept.
    const rows =
      clientId === undefined
        ? await this.db.rows<{ grant_id: string }>("SELECT grant_id FROM oauth_artifacts WHERE model = 'Grant' AND account_id = $1", [accountId])
        : await this.db.rows<{ grant_id: string }>("SELECT grant_id FROM oauth_artifacts WHERE model = 'Grant' AND account_id = $1 AND client_id = $2", [
            accountId,
            clientId,
          ]);
    return rows.map((r) => r.grant_id);
  }

  async purgeExpired(now: number): Promise<number> {
    return (await this.db.query('DELETE FROM oauth_artifacts WHERE expires_at IS NOT NULL AND expires_at <= $1', [now])).rowCount ?? 0;
  }
}
