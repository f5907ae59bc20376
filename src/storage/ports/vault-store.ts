/** One encrypted secret as stored: ciphertext and the wrapped data key, never the value. */
export interface SealedSecret {
  /** Identifies the key-encryption key that wrapped `wrappedKey`. */
  kekId: string;
  wrappedKey: Uint8Array;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

/** What `vault list` shows: metadata only. */
export interface SecretMetadata {
  name: string;
  version: number;
  kekId: string;
  createdAt: number;
  rotatedAt: number;
  lastUsedAt: number | null;
  usedBy: string[];
}

export interface StoredSecret extends SecretMetadata {
  sealed: SealedSecret;
}

export interface VaultStore {
  get(name: string): Promise<StoredSecret | undefined>;
  list(): Promise<SecretMetadata[]>;
  /** Creates `name` (version 1) or replaces its value (version + 1, `rotatedAt` = now). Returns the new version. */
  put(name: string, sealed: SealedSecret, now: number): Promise<{ version: number; created: boolean }>;
  delete(name: string): Promise<boolean>;
  /** Records that `consumer` resolved the secret. */
  markUsed(name: string, consumer: string, now: number): Promise<void>;
  /** Key ids in use, to detect a wrong key before decrypting anything. */
  kekIds(): Promise<string[]>;
}
