import type { Storage } from './ports/index.js';
import { SqliteStorage } from './sqlite/index.js';
import type { StorageSettings } from './storage-settings.js';

export interface OpenStorageOptions {
  /** SQLite: fsync audit commits off the event loop (the gateway does; short CLI commands need not). */
  asyncAuditSync?: boolean;
  /**
   * SQLite: what an audit commit waits for (`audit.sync`). PostgreSQL commits as its server is
   * configured (`synchronous_commit`), which is where that choice is made for a cluster.
   */
  auditSync?: 'fsync' | 'os';
  /** Where `${VAR}` in `storage.postgres.url` is read (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** What the factory needs from a loaded configuration. */
export interface StorageConfigSource {
  storage?: StorageSettings | undefined;
  /** Relative paths (file:PATH, sslRootCert) resolve against it. */
  baseDir: string;
  dataDir: string;
}

/**
 * Opens the configured storage: PostgreSQL when `storage.postgres` is set (migrated and
 * listening for other nodes' changes when this resolves), else embedded SQLite in the data dir.
 */
export async function openStorage(config: StorageConfigSource, dataDir: string = config.dataDir, options: OpenStorageOptions = {}): Promise<Storage> {
  const postgres = config.storage?.postgres;
  if (postgres) {
    // Loaded here, not at start-up: a gateway on SQLite never loads the pg driver.
    const [{ PostgresStorage }, { storagePoolConfig }] = await Promise.all([import('./postgres/index.js'), import('./postgres/connection-settings.js')]);
    return PostgresStorage.open(storagePoolConfig(postgres, config.baseDir, options.env ?? process.env));
  }
  return SqliteStorage.open(dataDir, {
    ...(options.asyncAuditSync === undefined ? {} : { asyncAuditSync: options.asyncAuditSync }),
    ...(options.auditSync === undefined ? {} : { auditSync: options.auditSync }),
  });
}
