// The vault-secret row as both stores keep it and its mapping to the port's metadata: the same
// columns in SQLite and PostgreSQL, except that the envelope parts come back as the driver's
// byte type (`B`).

import type { SealedSecret, SecretMetadata } from '../ports/index.js';

export interface VaultRow<B extends Uint8Array> {
  name: string;
  version: number;
  kek_id: string;
  wrapped_key: B;
  iv: B;
  ciphertext: B;
  tag: B;
  created_at: number;
  rotated_at: number;
  last_used_at: number | null;
  used_by: string;
}

/** The columns `list` reads: everything but the envelope. */
export type VaultMetadataRow = Omit<VaultRow<Uint8Array>, 'wrapped_key' | 'iv' | 'ciphertext' | 'tag'>;

/** How many consumers `used_by` remembers (the most recent). */
const MAX_CONSUMERS = 32;

/** `used_by` as a list of names; a column that is not a JSON array of strings reads as none. */
function parseUsedBy(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** The new `used_by` column after `consumer` read the secret. */
export function withConsumer(usedBy: string, consumer: string): string {
  const names = parseUsedBy(usedBy);
  return JSON.stringify(names.includes(consumer) ? names : [...names, consumer].slice(-MAX_CONSUMERS));
}

export function secretMetadata(row: VaultMetadataRow): SecretMetadata {
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

export function sealedFromRow<B extends Uint8Array>(row: VaultRow<B>): SealedSecret {
  return { kekId: row.kek_id, wrappedKey: row.wrapped_key, iv: row.iv, ciphertext: row.ciphertext, tag: row.tag };
}
