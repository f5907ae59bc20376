import type { KeyUse, SigningKeyRecord, SigningKeyStore } from '../ports/index.js';
import type { PostgresDatabase } from './database.js';
import { lockKey } from './locks.js';
import { type SigningKeyRow as Row, fromRow } from '../rows/signing-key-row.js';

export class PostgresSigningKeyStore implements SigningKeyStore {
  constructor(private readonly db: PostgresDatabase) {}

  async list(use: KeyUse): Promise<SigningKeyRecord[]> {
    return (await this.db.rows<Row>('SELECT * FROM signing_keys WHERE use = $1 ORDER BY created_at DESC, kid COLLATE "C"', [use])).map(fromRow);
  }

  async insert(r: SigningKeyRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO signing_keys (kid, use, alg, public_jwk, private_jwk, created_at, retired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (kid) DO NOTHING`,
      [r.kid, r.use, r.alg, r.publicJwk, r.privateJwk, r.createdAt, r.retiredAt, r.expiresAt],
    );
  }

  async insertIfNoActive(record: SigningKeyRecord): Promise<SigningKeyRecord> {
    return this.db.transaction(async (client) => {
      // Nodes starting together race to create the first key: they queue on this lock, and
      // every one after the first finds that key.
      await client.query('SELECT pg_advisory_xact_lock($1)', [lockKey(`signing-keys:${record.use}`)]);
      const active = (
        await client.query<Row>('SELECT * FROM signing_keys WHERE use = $1 AND retired_at IS NULL ORDER BY created_at DESC LIMIT 1', [record.use])
      ).rows[0];
      if (active) return fromRow(active);
      await client.query(
        'INSERT INTO signing_keys (kid, use, alg, public_jwk, private_jwk, created_at, retired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)',
        [record.kid, record.use, record.alg, record.publicJwk, record.privateJwk, record.createdAt],
      );
      return record;
    });
  }

  async retire(kid: string, retiredAt: number, expiresAt: number): Promise<void> {
    await this.db.query('UPDATE signing_keys SET retired_at = $1, expires_at = $2 WHERE kid = $3 AND retired_at IS NULL', [retiredAt, expiresAt, kid]);
  }

  async deleteExpired(now: number): Promise<number> {
    return (await this.db.query('DELETE FROM signing_keys WHERE expires_at IS NOT NULL AND expires_at < $1', [now])).rowCount ?? 0;
  }
}
