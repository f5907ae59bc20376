import { registerCredential } from '../log/index.js';
import type { SealedSecret, SecretMetadata, VaultStore } from '../storage/index.js';
import { open, seal } from './envelope.js';
import { VaultError } from './errors.js';
import type { KeyProvider } from './key-provider.js';

/** Vault names: what `vault:NAME` references and `gatehouse vault put NAME` accept. */
export { SECRET_NAME } from '../config/secret-name.js';
import { SECRET_NAME } from '../config/secret-name.js';
export const MAX_SECRET_BYTES = 64 * 1024;
/** Long-lived secrets are rotated at least every 90 days (a common compliance ceiling); older ones are reported. */
export const ROTATE_AFTER_DAYS = 90;
const DAY_MS = 86_400_000;
const MARK_USED_EVERY_MS = 60_000;

export interface VaultOptions {
  store: VaultStore;
  /** The key provider, loaded on first need (a vault used only in memory never needs one). */
  keys: () => KeyProvider | Promise<KeyProvider>;
  /** Memory-only secrets given at start: consulted first, never written anywhere. */
  memory?: ReadonlyMap<string, string> | undefined;
  /** Told about every resolution (the gateway audits it). Never receives the value. */
  onUse?: ((name: string, consumer: string, origin: 'memory' | 'store') => void) | undefined;
  now?: () => number;
}

export interface SecretListing extends SecretMetadata {
  ageDays: number;
  /** True when the value is older than ROTATE_AFTER_DAYS. */
  rotationDue: boolean;
  /** Set when the value is older than ROTATE_AFTER_DAYS. */
  warning: string | undefined;
}

export function validateSecretName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new VaultError(
      'vault.invalid_name',
      `invalid vault name "${name.slice(0, 64)}": use letters, digits, ".", "_" and "-", starting with a letter or digit (at most 128 characters)`,
    );
  }
}

/**
 * The credential vault: write-only from the outside. Values go in (`put`, `rotate`) and come
 * out only through `resolve`, which the gateway calls at the moment a credential is used
 * (spawning a child, connecting upstream, managing database roles). `resolve` registers the
 * value with the log redactor before anyone sees it. Nothing here returns a value to a CLI,
 * an API or a page.
 */
export class Vault {
  readonly #store: VaultStore;
  readonly #keys: VaultOptions['keys'];
  readonly #memory: ReadonlyMap<string, string>;
  readonly #onUse: VaultOptions['onUse'];
  readonly #now: () => number;
  readonly #lastMarked = new Map<string, number>();

  constructor(options: VaultOptions) {
    this.#store = options.store;
    this.#keys = options.keys;
    this.#memory = options.memory ?? new Map();
    this.#onUse = options.onUse;
    this.#now = options.now ?? Date.now;
    for (const value of this.#memory.values()) registerCredential(value);
  }

  /** Names held in memory only (memory-only mode). */
  get memoryNames(): string[] {
    return [...this.#memory.keys()].sort();
  }

  async #provider(): Promise<KeyProvider> {
    const provider = await this.#keys();
    // Detect a wrong key before sealing anything new under it next to entries it cannot open.
    const ids = await this.#store.kekIds();
    const foreign = ids.filter((id) => id !== provider.id);
    if (foreign.length > 0) {
      throw new VaultError(
        'vault.key_mismatch',
        `this vault's entries were sealed with master key ${foreign.join(', ')}, but the key from ${provider.source} is ${provider.id}. Use the original key (restore it from your backup); without it those secrets cannot be recovered.`,
      );
    }
    return provider;
  }

  /** Creates or replaces `name`. A replacement counts as a rotation. */
  async put(name: string, value: string | Uint8Array): Promise<{ version: number; created: boolean }> {
    validateSecretName(name);
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    try {
      if (bytes.length === 0) throw new VaultError('vault.invalid_value', 'the value is empty');
      if (bytes.length > MAX_SECRET_BYTES) throw new VaultError('vault.invalid_value', `the value is ${bytes.length} bytes; the limit is ${MAX_SECRET_BYTES}`);
      const sealed = await seal(await this.#provider(), name, bytes);
      return await this.#store.put(name, sealed, this.#now());
    } finally {
      bytes.fill(0);
    }
  }

  /** Replaces the value of an existing secret. */
  async rotate(name: string, value: string | Uint8Array): Promise<{ version: number }> {
    validateSecretName(name);
    if (!(await this.#store.get(name)))
      throw new VaultError('vault.not_found', `vault secret "${name}" does not exist (create it with: gatehouse vault put ${name})`);
    const { version } = await this.put(name, value);
    return { version };
  }

  /**
   * Seals a value that lives outside the vault's own table (a user's downstream OAuth tokens)
   * with the same envelope encryption and key. `context` is bound as authenticated data: the
   * sealed value opens only under the same context. Contexts contain a ":" so they can never
   * be a vault secret name.
   */
  async sealValue(context: string, value: string): Promise<SealedSecret> {
    if (!context.includes(':')) throw new VaultError('vault.invalid_name', 'a sealing context must contain ":"');
    const bytes = Buffer.from(value, 'utf8');
    try {
      return await seal(await this.#provider(), context, bytes);
    } finally {
      bytes.fill(0);
    }
  }

  /** Opens what `sealValue(context, …)` sealed; registers the value with the log redactor. */
  async openValue(context: string, sealed: SealedSecret): Promise<string> {
    const bytes = await open(await this.#keys(), context, sealed);
    const value = bytes.toString('utf8');
    bytes.fill(0);
    registerCredential(value);
    return value;
  }

  async delete(name: string): Promise<boolean> {
    validateSecretName(name);
    return this.#store.delete(name);
  }

  async has(name: string): Promise<boolean> {
    return this.#memory.has(name) || (await this.#store.get(name)) !== undefined;
  }

  /** Metadata only, with age and the rotation warning. */
  async list(): Promise<SecretListing[]> {
    const now = this.#now();
    return (await this.#store.list()).map((entry) => {
      const ageDays = Math.floor((now - entry.rotatedAt) / DAY_MS);
      return {
        ...entry,
        ageDays,
        rotationDue: ageDays > ROTATE_AFTER_DAYS,
        warning:
          ageDays > ROTATE_AFTER_DAYS
            ? `value is ${ageDays} days old; rotate it (gatehouse vault rotate ${entry.name}): the limit is ${ROTATE_AFTER_DAYS} days`
            : undefined,
      };
    });
  }

  /**
   * The plaintext, for the component about to use it (`consumer` names it, e.g.
   * `servers.github.env.API_KEY`). Registered with the redactor before it is returned.
   */
  async resolve(name: string, consumer: string): Promise<string> {
    validateSecretName(name);
    const remembered = this.#memory.get(name);
    if (remembered !== undefined) {
      this.#onUse?.(name, consumer, 'memory');
      return remembered;
    }
    const stored = await this.#store.get(name);
    if (!stored) throw new VaultError('vault.not_found', `vault secret "${name}" does not exist (add it with: gatehouse vault put ${name})`);
    const provider = await this.#keys();
    const bytes = await open(provider, name, stored.sealed);
    const value = bytes.toString('utf8');
    bytes.fill(0);
    registerCredential(value);
    // "Last used" has minute resolution: a connection pool re-resolving its password does not
    // cost a database write each time.
    const key = `${name}\0${consumer}`;
    const now = this.#now();
    if (now - (this.#lastMarked.get(key) ?? -Infinity) >= MARK_USED_EVERY_MS) {
      this.#lastMarked.set(key, now);
      try {
        await this.#store.markUsed(name, consumer, now);
      } catch {
        // Usage metadata is best effort; the credential is still usable.
      }
    }
    this.#onUse?.(name, consumer, 'store');
    return value;
  }
}
