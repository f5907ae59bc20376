import type { ConsentRecord, ConsentStore } from '../ports/index.js';
import type { PostgresDatabase } from './database.js';
import { type ConsentRow as Row, fromRow } from '../rows/consent-row.js';

export class PostgresConsentStore implements ConsentStore {
  constructor(private readonly db: PostgresDatabase) {}

  async get(sub: string, clientId: string): Promise<ConsentRecord | undefined> {
    const row = await this.db.row<Row>('SELECT * FROM oauth_consents WHERE sub = $1 AND client_id = $2', [sub, clientId]);
    return row ? fromRow(row) : undefined;
  }

  async upsert(r: ConsentRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO oauth_consents (sub, client_id, client_name, redirect_host, scopes, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (sub, client_id) DO UPDATE SET client_name = excluded.client_name, redirect_host = excluded.redirect_host,
         scopes = excluded.scopes, last_used_at = excluded.last_used_at`,
      [r.sub, r.clientId, r.clientName, r.redirectHost, JSON.stringify(r.scopes), r.createdAt, r.lastUsedAt],
    );
  }

  async touch(sub: string, clientId: string, now: number): Promise<void> {
    await this.db.query('UPDATE oauth_consents SET last_used_at = $1 WHERE sub = $2 AND client_id = $3', [now, sub, clientId]);
  }

  async listForUser(sub: string): Promise<ConsentRecord[]> {
    return (await this.db.rows<Row>('SELECT * FROM oauth_consents WHERE sub = $1 ORDER BY last_used_at DESC', [sub])).map(fromRow);
  }

  async delete(sub: string, clientId: string): Promise<boolean> {
    return ((await this.db.query('DELETE FROM oauth_consents WHERE sub = $1 AND client_id = $2', [sub, clientId])).rowCount ?? 0) > 0;
  }

  async deleteForClient(clientId: string): Promise<number> {
    return (await this.db.query('DELETE FROM oauth_consents WHERE client_id = $1', [clientId])).rowCount ?? 0;
  }

  async deleteForUser(sub: string): Promise<number> {
    return (await this.db.query('DELETE FROM oauth_consents WHERE sub = $1', [sub])).rowCount ?? 0;
  }
}
