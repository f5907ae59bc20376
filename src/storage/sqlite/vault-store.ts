import type { SealedSecret, SecretMetadata, StoredSecret, VaultStore } from '../ports/index.js';
import type { SqliteDatabase } from './database.js';

interface Row {
  name: string;
  version: number;
  kek_id: string;
  wrapped_key: Uint8Array;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
  created_at: number;
  rotated_at: number;
  last_used_at: number | null;
  used_by: string;
}

const MAX_CONSUMERS = 32;

function metadata(row: Omit<Row, 'wrapped_key' | 'iv' | 'ciphertext' | 'tag'>): SecretMetadata {
  let usedBy: string[] = [];
  try {
    const parsed = JSON.parse(row.used_by) as unknown;
    if (Array.isArray(parsed)) usedBy = parsed.filter((v): v is string => typeof v === 'string');
  } catch {
    usedBy = [];
  }
  return {
    name: row.name,
    version: row.version,
    kekId: row.kek_id,
    createdAt: row.created_at,
    rotatedAt: row.rotated_at,
    lastUsedAt: row.last_used_at,
    usedBy,
  };
}

export class SqliteVaultStore implements VaultStore {
  constructor(private readonly sql: SqliteDatabase) {}

  async get(name: string): Promise<StoredSecret | undefined> {
    const row = this.sql.statement('SELECT * FROM vault_secrets WHERE name = ?').get(name) as Row | undefined;
    if (!row) return undefined;
    return {
      ...metadata(row),
      sealed: { kekId: row.kek_id, wrappedKey: row.wrapped_key, iv: row.iv, ciphertext: row.ciphertext, tag: row.tag },
    };
  }

  async list(): Promise<SecretMetadata[]> {
    const rows = this.sql
      .statement('SELECT name, version, kek_id, created_at, rotated_at, last_used_at, used_by FROM vault_secrets ORDER BY name')
      .all() as unknown as Row[];
    return rows.map(metadata);
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
      let usedBy: string[] = [];
      try {
        usedBy = JSON.parse(row.used_by) as string[];
      } catch {
        usedBy = [];
      }
      if (!usedBy.includes(consumer)) usedBy = [...usedBy, consumer].slice(-MAX_CONSUMERS);
      this.sql.statement('UPDATE vault_secrets SET last_used_at = ?, used_by = ? WHERE name = ?').run(now, JSON.stringify(usedBy), name);
    });
  }

  async kekIds(): Promise<string[]> {
    return (this.sql.statement('SELECT DISTINCT kek_id FROM vault_secrets').all() as { kek_id: string }[]).map((r) => r.kek_id);
  }
}
