import type { SealedSecret, SecretMetadata, StoredSecret, VaultStore } from '../ports/index.js';
import { sealedFromRow, secretMetadata, type VaultRow, withConsumer } from '../rows/vault-row.js';
import type { PostgresDatabase } from './database.js';

type Row = VaultRow<Buffer>;

export class PostgresVaultStore implements VaultStore {
  constructor(private readonly db: PostgresDatabase) {}

  async get(name: string): Promise<StoredSecret | undefined> {
    const row = await this.db.row<Row>('SELECT * FROM vault_secrets WHERE name = $1', [name]);
    if (!row) return undefined;
    return { ...secretMetadata(row), sealed: sealedFromRow(row) };
  }

  async list(): Promise<SecretMetadata[]> {
    const rows = await this.db.rows<Row>(
      'SELECT name, version, kek_id, created_at, rotated_at, last_used_at, used_by FROM vault_secrets ORDER BY name COLLATE "C"',
    );
    return rows.map(secretMetadata);
  }

  /** One statement, so two nodes writing the same name at once get versions n+1 and n+2, never a conflict. */
  async put(name: string, sealed: SealedSecret, now: number): Promise<{ version: number; created: boolean }> {
    const row = await this.db.row<{ version: number }>(
      `INSERT INTO vault_secrets (name, version, kek_id, wrapped_key, iv, ciphertext, tag, created_at, rotated_at) VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $7)
       ON CONFLICT (name) DO UPDATE SET version = vault_secrets.version + 1, kek_id = excluded.kek_id, wrapped_key = excluded.wrapped_key,
         iv = excluded.iv, ciphertext = excluded.ciphertext, tag = excluded.tag, rotated_at = excluded.rotated_at
       RETURNING version`,
      [name, sealed.kekId, Buffer.from(sealed.wrappedKey), Buffer.from(sealed.iv), Buffer.from(sealed.ciphertext), Buffer.from(sealed.tag), now],
    );
    const version = (row as { version: number }).version;
    return { version, created: version === 1 };
  }

  async delete(name: string): Promise<boolean> {
    return ((await this.db.query('DELETE FROM vault_secrets WHERE name = $1', [name])).rowCount ?? 0) > 0;
  }

  async markUsed(name: string, consumer: string, now: number): Promise<void> {
    await this.db.transaction(async (client) => {
      const row = (await client.query<{ used_by: string }>('SELECT used_by FROM vault_secrets WHERE name = $1 FOR UPDATE', [name])).rows[0];
      if (!row) return;
      await client.query('UPDATE vault_secrets SET last_used_at = $1, used_by = $2 WHERE name = $3', [now, withConsumer(row.used_by, consumer), name]);
    });
  }

  async kekIds(): Promise<string[]> {
    return (await this.db.rows<{ kek_id: string }>('SELECT DISTINCT kek_id FROM vault_secrets')).map((r) => r.kek_id);
  }
}
