import { VaultError, type Vault } from '../../../vault/index.js';
import { CredentialUnavailableError } from './errors.js';

/**
 * A vault value for a credential provider. A missing entry becomes a stable error that names
 * the vault entry (never a value); a value that could break a header is refused.
 */
export async function resolveSecret(vault: Vault, name: string, consumer: string): Promise<string> {
  let value: string;
  try {
    value = await vault.resolve(name, consumer);
  } catch (error) {
    if (error instanceof VaultError) {
      throw new CredentialUnavailableError('credentials.unavailable', `The credential for ${consumer.split('.')[1]} is not available.`, {
        detail: { consumer, vault: name, code: error.code },
        cause: error,
      });
    }
    throw error;
  }
  if (/[\0\r\n]/.test(value)) {
    throw new CredentialUnavailableError('credentials.unavailable', `The credential for ${consumer.split('.')[1]} is not usable.`, {
      detail: { consumer, vault: name, problem: 'the value contains CR, LF or NUL' },
    });
  }
  return value;
}
