import type { ConsentRecord, ConsentStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';
import { type ConsentRow as Row, fromRow } from '../rows/consent-row.js';

export class SqliteConsentStore implements ConsentStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async get(sub: string, clientId: string): Promise<ConsentRecord | undefined> {
    const row = this.sql.statement('SELECT * FROM oauth_consents WHERE sub = ? AND client_id = ?').get(sub, clientId) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async upsert(r: ConsentRecord): Promise<void> {
    this.sql
      .statement(
        `INSERT INTO oauth_consents (sub, client_id, client_name, redirect_host, scopes, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (sub, client_id) DO UPDATE SET client_name = excluded.client_name, redirect_host = excluded.redirect_host,
           scopes = excluded.scopes, last_used_at = excluded.last_used_at`,
      )
      .run(r.sub, r.clientId, r.clientName, r.redirectHost, JSON.stringify(r.scopes), r.createdAt, r.lastUsedAt);
  }

  async touch(sub: string, clientId: string, now: number): Promise<void> {
    this.sql.statement('UPDATE oauth_consents SET last_used_at = ? WHERE sub = ? AND client_id = ?').run(now, sub, clientId);
  }

  async listForUser(sub: string): Promise<ConsentRecord[]> {
    return (this.sql.statement('SELECT * FROM oauth_consents WHERE sub = ? ORDER BY last_used_at DESC').all(sub) as unknown as Row[]).map(fromRow);
  }

  async delete(sub: string, clientId: string): Promise<boolean> {
    return Number(this.sql.statement('DELETE FROM oauth_consents WHERE sub = ? AND client_id = ?').run(sub, clientId).changes) > 0;
  }

  async deleteForClient(clientId: string): Promise<number> {
    return Number(this.sql.statement('DELETE FROM oauth_consents WHERE client_id = ?').run(clientId).changes);
  }

  async deleteForUser(sub: string): Promise<number> {
    return Number(this.sql.statement('DELETE FROM oauth_consents WHERE sub = ?').run(sub).changes);
  }
}
