import type { SealedSecret, SecretMetadata, StoredSecret, VaultStore } from '../ports/index.js';
import type { PostgresDatabase } from './database.js';

interface Row {
  name: string;
  version: number;
  kek_id: string;
  wrapped_key: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  created_at: number;
  rotated_at: number;
  last_used_at: number | null;
  used_by: string;
}

const MAX_CONSUMERS = 32;

function parseUsedBy(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function metadata(row: Omit<Row, 'wrapped_key' | 'iv' | 'ciphertext' | 'tag'>): SecretMetadata {
  return {
    name: row.name,
    version: row.version,
    kekId: row.kek_id,
    createdAt: row.created_at,
    rotatedAt: row.rotated_at,
    lastUsedAt: row.last_used_at,
    usedBy: parseUsedBy(row.used_by),
  };
}

export class PostgresVaultStore implements VaultStore {
  constructor(private readonly db: PostgresDatabase) {}

  async get(name: string): Promise<StoredSecret | undefined> {
    const row = await this.db.row<Row>('SELECT * FROM vault_secrets WHERE name = $1', [name]);
    if (!row) return undefined;
    return {
      ...metadata(row),
      sealed: { kekId: row.kek_id, wrappedKey: row.wrapped_key, iv: row.iv, ciphertext: row.ciphertext, tag: row.tag },
    };
  }

  async list(): Promise<SecretMetadata[]> {
    const rows = await this.db.rows<Row>(
      'SELECT name, version, kek_id, created_at, rotated_at, last_used_at, used_by FROM vault_secrets ORDER BY name COLLATE "C"',
    );
    return rows.map(metadata);
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
      let usedBy = parseUsedBy(row.used_by);
      if (!usedBy.includes(consumer)) usedBy = [...usedBy, consumer].slice(-MAX_CONSUMERS);
      await client.query('UPDATE vault_secrets SET last_used_at = $1, used_by = $2 WHERE name = $3', [now, JSON.stringify(usedBy), name]);
    });
  }

  async kekIds(): Promise<string[]> {
    return (await this.db.rows<{ kek_id: string }>('SELECT DISTINCT kek_id FROM vault_secrets')).map((r) => r.kek_id);
  }
}
