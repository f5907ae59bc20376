import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SealedSecret } from '../storage/index.js';
import { VaultError } from './errors.js';
import type { KeyProvider } from './key-provider.js';

/**
 * Envelope encryption: every secret gets its own random 256-bit data key; the value is sealed
 * with AES-256-GCM under that key, and the key is wrapped by the KEK. The secret's name is
 * authenticated data for both layers, so a sealed value moved to another name (or a wrapped
 * key moved between entries) fails to open instead of silently answering for the wrong name.
 */
const FORMAT = 'gatehouse/vault/v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function valueContext(name: string): Buffer {
  return Buffer.from(`${FORMAT}\0value\0${name}`, 'utf8');
}

export function keyContext(name: string): Buffer {
  return Buffer.from(`${FORMAT}\0data-key\0${name}`, 'utf8');
}

export async function seal(provider: KeyProvider, name: string, plaintext: Uint8Array): Promise<SealedSecret> {
  const dataKey = randomBytes(32);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(valueContext(name));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    const wrappedKey = await provider.wrap(dataKey, keyContext(name));
    return { kekId: provider.id, wrappedKey, iv, ciphertext, tag };
  } finally {
    dataKey.fill(0);
  }
}

export async function open(provider: KeyProvider, name: string, sealed: SealedSecret): Promise<Buffer> {
  if (sealed.kekId !== provider.id) {
    throw new VaultError(
      'vault.key_mismatch',
      `vault secret "${name}" was sealed with master key ${sealed.kekId}, but the key from ${provider.source} is ${provider.id}`,
    );
  }
  const dataKey = await provider.unwrap(sealed.wrappedKey, keyContext(name));
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(valueContext(name));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch (cause) {
    throw new VaultError('vault.decrypt_failed', `vault secret "${name}" could not be decrypted: the stored entry was altered or belongs to another name`, {
      cause,
    });
  } finally {
    dataKey.fill(0);
  }
}
