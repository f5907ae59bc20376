import type { PoolConfig } from 'pg';
import type { Storage } from '../ports/index.js';
import { PostgresApprovalStore } from './approval-store.js';
import { PostgresAuditStore } from './audit-store.js';
import { PostgresChangeListener } from './change-listener.js';
import { PostgresConnectionStore } from './connection-store.js';
import { PostgresConsentStore } from './consent-store.js';
import { PostgresDatabase } from './database.js';
import { describeTarget, StorageUnavailableError } from './errors.js';
import { PostgresLeaseStore } from './lease-store.js';
import { PostgresOAuthStore } from './oauth-store.js';
import { PostgresRevocationStore } from './revocation-store.js';
import { PostgresSettingsStore } from './settings-store.js';
import { PostgresSigningKeyStore } from './signing-key-store.js';
import { PostgresToolPinStore } from './tool-pin-store.js';
import { PostgresMcpSessionStore } from './mcp-session-store.js';
import { PostgresUserStore } from './user-store.js';
import { PostgresVaultStore } from './vault-store.js';

export { PostgresDatabase, MIGRATION_LOCK_KEY } from './database.js';
export { MIGRATIONS as POSTGRES_MIGRATIONS, type PostgresMigration } from './migrations/index.js';
export { storagePoolConfig, resolveStorageUrl } from './connection-settings.js';
export { StorageUnavailableError } from './errors.js';

export interface PostgresStorageOptions {
  /** Called when the change listener's connection fails (it reconnects by itself). */
  onListenerError?: (error: Error) => void;
  /** First reconnect delay of the change listener (tests shorten it). */
  listenerBackoffMs?: number;
}

/** Every storage port on one shared PostgreSQL database, for several gateway nodes. */
export class PostgresStorage implements Storage {
  readonly kind = 'postgres' as const;
  readonly settings: PostgresSettingsStore;
  readonly signingKeys: PostgresSigningKeyStore;
  readonly audit: PostgresAuditStore;
  readonly vault: PostgresVaultStore;
  readonly leases: PostgresLeaseStore;
  readonly users: PostgresUserStore;
  readonly oauth: PostgresOAuthStore;
  readonly consents: PostgresConsentStore;
  readonly connections: PostgresConnectionStore;
  readonly revocations: PostgresRevocationStore;
  readonly approvals: PostgresApprovalStore;
  readonly toolPins: PostgresToolPinStore;
  readonly mcpSessions: PostgresMcpSessionStore;
  readonly #listener: PostgresChangeListener;
  #closed = false;

  private constructor(
    readonly db: PostgresDatabase,
    options: PostgresStorageOptions,
  ) {
    this.settings = new PostgresSettingsStore(db);
    this.signingKeys = new PostgresSigningKeyStore(db);
    this.audit = new PostgresAuditStore(db);
    this.vault = new PostgresVaultStore(db);
    this.leases = new PostgresLeaseStore(db);
    this.users = new PostgresUserStore(db);
    this.oauth = new PostgresOAuthStore(db);
    this.consents = new PostgresConsentStore(db);
    this.connections = new PostgresConnectionStore(db);
    this.revocations = new PostgresRevocationStore(db);
    this.approvals = new PostgresApprovalStore(db);
    this.toolPins = new PostgresToolPinStore(db);
    this.mcpSessions = new PostgresMcpSessionStore(db);
    this.#listener = new PostgresChangeListener({
      nodeId: db.nodeId,
      newClient: () => db.newClient(),
      ...(options.listenerBackoffMs !== undefined ? { backoffMs: options.listenerBackoffMs } : {}),
      ...(options.onListenerError ? { onError: options.onListenerError } : {}),
    });
  }

  /**
   * Connects, migrates (under the advisory lock), and starts listening for other nodes'
   * changes before returning, so no change committed after open is missed.
   */
  static async open(config: PoolConfig, options: PostgresStorageOptions = {}): Promise<PostgresStorage> {
    let db: PostgresDatabase;
    try {
      db = await PostgresDatabase.open(config);
    } catch (error) {
      throw new StorageUnavailableError(`cannot open the PostgreSQL storage at ${describeTarget(config)}: ${(error as Error).message}`, { cause: error });
    }
    const storage = new PostgresStorage(db, options);
    await storage.#listener.ready;
    if (!storage.#listener.connected) {
      await storage.close();
      throw new StorageUnavailableError(`cannot listen for changes on the PostgreSQL storage at ${describeTarget(config)}`);
    }
    // Anything committed before the listener was in place is already in the store, which the
    // caller reads next; the first ask should not report it again.
    storage.#listener.consume();
    return storage;
  }

  /** True when another node (or any other writer) committed a watched change since the last call, or while the listener was disconnected. */
  externalChanges(): boolean {
    return this.#listener.consume();
  }

  /** Whether the change listener currently holds its connection. */
  get listening(): boolean {
    return this.#listener.connected;
  }

  async probeWritable(): Promise<void> {
    await this.db.query('INSERT INTO storage_probe (id, written_at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at', [
      Date.now(),
    ]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.audit.idle();
    await this.#listener.close();
    await this.db.close();
  }
}
