export type KeyUse = 'access-token' | 'audit';

export interface SigningKeyRecord {
  kid: string;
  use: KeyUse;
  alg: 'EdDSA';
  /** Public JWK as JSON text. */
  publicJwk: string;
  /** Private JWK as JSON text. */
  privateJwk: string;
  createdAt: number;
  /** When the key stops signing; it stays valid for verification until `expiresAt`. */
  retiredAt: number | null;
  /** After this instant the key verifies nothing and may be deleted. */
  expiresAt: number | null;
}

export interface SigningKeyStore {
  list(use: KeyUse): Promise<SigningKeyRecord[]>;
  /** Inserts a key unless one with the same kid exists. */
  insert(record: SigningKeyRecord): Promise<void>;
  /**
   * Inserts `record` only if no active (unretired) key for its use exists; returns the
   * active key either way. Lets several processes race to create the first key safely.
   */
  insertIfNoActive(record: SigningKeyRecord): Promise<SigningKeyRecord>;
  retire(kid: string, retiredAt: number, expiresAt: number): Promise<void>;
  deleteExpired(now: number): Promise<number>;
}
