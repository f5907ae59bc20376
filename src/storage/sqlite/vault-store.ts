import type { SealedSecret, SecretMetadata, StoredSecret, VaultStore } from '../ports/index.js';
import { sealedFromRow, secretMetadata, type VaultRow, withConsumer } from '../rows/vault-row.js';
import type { SqliteDatabase } from './database.js';

type Row = VaultRow<Uint8Array>;

export class SqliteVaultStore implements VaultStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async get(name: string): Promise<StoredSecret | undefined> {
    const row = this.sql.statement('SELECT * FROM vault_secrets WHERE name = ?').get(name) as Row | undefined;
    if (!row) return undefined;
    return { ...secretMetadata(row), sealed: sealedFromRow(row) };
  }

  async list(): Promise<SecretMetadata[]> {
    const rows = this.sql
      .statement('SELECT name, version, kek_id, created_at, rotated_at, last_used_at, used_by FROM vault_secrets ORDER BY name')
      .all() as unknown as Row[];
    return rows.map(secretMetadata);
  }

  async put(name: string, sealed: SealedSecret, now: number): Promise<{ version: number; created: boolean }> {
    return this.sql.transaction(() => {
      const existing = this.sql.statement('SELECT version FROM vault_secrets WHERE name = ?').get(name) as { version: number } | undefined;
      if (existing) {
        const version = existing.version + 1;
        this.sql
          .statement('UPDATE vault_secrets SET version = ?, kek_id = ?, wrapped_key = ?, iv = ?, ciphertext = ?, tag = ?, rotated_at = ? WHERE name = ?')
          .run(version, sealed.kekId, sealed.wrappedKey, sealed.iv, sealed.ciphertext, sealed.tag, now, name);
        return { version, created: false };
      }
      this.sql
        .statement(
          'INSERT INTO vault_secrets (name, version, kek_id, wrapped_key, iv, ciphertext, tag, created_at, rotated_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(name, sealed.kekId, sealed.wrappedKey, sealed.iv, sealed.ciphertext, sealed.tag, now, now);
      return { version: 1, created: true };
    });
  }

  async delete(name: string): Promise<boolean> {
    return Number(this.sql.statement('DELETE FROM vault_secrets WHERE name = ?').run(name).changes) > 0;
  }

  async markUsed(name: string, consumer: string, now: number): Promise<void> {
    this.sql.transaction(() => {
      const row = this.sql.statement('SELECT used_by FROM vault_secrets WHERE name = ?').get(name) as { used_by: string } | undefined;
      if (!row) return;
      this.sql.statement('UPDATE vault_secrets SET last_used_at = ?, used_by = ? WHERE name = ?').run(now, withConsumer(row.used_by, consumer), name);
    });
  }

  async kekIds(): Promise<string[]> {
    return (this.sql.statement('SELECT DISTINCT kek_id FROM vault_secrets').all() as { kek_id: string }[]).map((r) => r.kek_id);
  }
}
