// The signing-key row as both stores keep it (same columns in SQLite and PostgreSQL) and its mapping to
// the port's record: one definition, so the two stores cannot drift apart.

import type { KeyUse, SigningKeyRecord } from '../ports/index.js';

export interface SigningKeyRow {
  kid: string;
  use: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
  created_at: number;
  retired_at: number | null;
  expires_at: number | null;
}

export function fromRow(row: SigningKeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    use: row.use as KeyUse,
    alg: 'EdDSA',
    publicJwk: row.public_jwk,
    privateJwk: row.private_jwk,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
    expiresAt: row.expires_at,
  };
}
