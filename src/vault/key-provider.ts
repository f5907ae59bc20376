import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { VaultError } from './errors.js';

/**
 * Wraps and unwraps per-secret data keys with a key-encryption key (KEK). The local provider
 * holds the KEK in memory; a cloud KMS provider (AWS KMS, GCP KMS, Azure Key Vault, Vault
 * Transit) implements the same two calls remotely, so the KEK never enters this process.
 */
export interface KeyProvider {
  /** Stable fingerprint of the KEK, stored beside each wrapped key (never the key itself). */
  readonly id: string;
  /** Where the key came from, for messages ("file /root/.config/gatehouse/master.key"). */
  readonly source: string;
  /** Encrypts `dataKey`, binding it to `context` (authenticated, not encrypted). */
  wrap(dataKey: Uint8Array, context: Uint8Array): Promise<Uint8Array>;
  /** Reverses `wrap`; throws `vault.decrypt_failed` if the key, context or bytes differ. */
  unwrap(wrapped: Uint8Array, context: Uint8Array): Promise<Buffer>;
}

export const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Fingerprint of a local KEK: an HMAC under the key itself, so it reveals nothing about it. */
export function localKeyId(kek: Uint8Array): string {
  return `local:${createHmac('sha256', kek).update('gatehouse vault kek-id v1').digest('base64url').slice(0, 16)}`;
}

/** AES-256-GCM key wrapping under a KEK held in memory. Layout: iv(12) ‖ ciphertext ‖ tag(16). */
export class LocalKeyProvider implements KeyProvider {
  readonly id: string;
  readonly #kek: Buffer;

  constructor(
    kek: Uint8Array,
    readonly source: string,
  ) {
    if (kek.length !== KEK_BYTES)
      throw new VaultError('vault.key_invalid', `the master key from ${source} must be exactly ${KEK_BYTES} bytes, got ${kek.length}`);
    this.#kek = Buffer.from(kek);
    this.id = localKeyId(this.#kek);
  }

  async wrap(dataKey: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#kek, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(context);
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]);
  }

  async unwrap(wrapped: Uint8Array, context: Uint8Array): Promise<Buffer> {
    if (wrapped.length <= IV_BYTES + TAG_BYTES) throw new VaultError('vault.decrypt_failed', 'wrapped data key is truncated');
    const bytes = Buffer.from(wrapped);
    const iv = bytes.subarray(0, IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#kek, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(context);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch (cause) {
      throw new VaultError('vault.decrypt_failed', 'the data key could not be unwrapped: wrong master key, or the stored entry was altered', { cause });
    }
  }

  /** The raw key, for `vault backup-key` only. */
  exportKey(): Buffer {
    return Buffer.from(this.#kek);
  }
}
