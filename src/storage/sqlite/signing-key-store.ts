import type { KeyUse, SigningKeyRecord, SigningKeyStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';
import { type SigningKeyRow as Row, fromRow } from '../rows/signing-key-row.js';

export class SqliteSigningKeyStore implements SigningKeyStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async list(use: KeyUse): Promise<SigningKeyRecord[]> {
    const rows = this.sql.statement('SELECT * FROM signing_keys WHERE use = ? ORDER BY created_at DESC, kid').all(use) as unknown as Row[];
    return rows.map(fromRow);
  }

  async insert(r: SigningKeyRecord): Promise<void> {
    this.sql
      .statement(
        'INSERT OR IGNORE INTO signing_keys (kid, use, alg, public_jwk, private_jwk, created_at, retired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(r.kid, r.use, r.alg, r.publicJwk, r.privateJwk, r.createdAt, r.retiredAt, r.expiresAt);
  }

  async insertIfNoActive(record: SigningKeyRecord): Promise<SigningKeyRecord> {
    return this.sql.transaction(() => {
      const active = this.sql.statement('SELECT * FROM signing_keys WHERE use = ? AND retired_at IS NULL ORDER BY created_at DESC LIMIT 1').get(record.use) as
        | Row
        | undefined;
      if (active) return fromRow(active);
      this.sql
        .statement(
          'INSERT INTO signing_keys (kid, use, alg, public_jwk, private_jwk, created_at, retired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)',
        )
        .run(record.kid, record.use, record.alg, record.publicJwk, record.privateJwk, record.createdAt);
      return record;
    });
  }

  async retire(kid: string, retiredAt: number, expiresAt: number): Promise<void> {
    this.sql.statement('UPDATE signing_keys SET retired_at = ?, expires_at = ? WHERE kid = ? AND retired_at IS NULL').run(retiredAt, expiresAt, kid);
  }

  async deleteExpired(now: number): Promise<number> {
    const result = this.sql.statement('DELETE FROM signing_keys WHERE expires_at IS NOT NULL AND expires_at < ?').run(now);
    return Number(result.changes);
  }
}
