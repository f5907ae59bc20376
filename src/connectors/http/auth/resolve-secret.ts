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

/** How long a resolved static credential is reused before the vault is read again. */
export const SECRET_CACHE_MS = 60_000;

/**
 * A vault value read at most once a minute: the hot path pays a map lookup instead of a
 * database read and two decryptions per request. The plaintext is held in memory anyway (the
 * log redactor must know it), so the cache adds no exposure; a `vault rotate` applies within
 * a minute, and at once after a 401 (`forget`).
 */
export class CachedSecret {
  #value: { text: string; at: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(
    private readonly vault: Vault,
    private readonly name: string,
    private readonly consumer: string,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<string> {
    const cached = this.#value;
    if (cached && this.now() - cached.at < SECRET_CACHE_MS) return Promise.resolve(cached.text);
    this.#pending ??= resolveSecret(this.vault, this.name, this.consumer)
      .then((text) => {
        this.#value = { text, at: this.now() };
        return text;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  forget(): void {
    this.#value = undefined;
  }
}
