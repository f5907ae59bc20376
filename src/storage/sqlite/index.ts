import type { Storage } from '../ports/index.js';
import { SqliteApprovalStore } from './approval-store.js';
import { SqliteAuditStore } from './audit-store.js';
import { SqliteConnectionStore } from './connection-store.js';
import { SqliteDatabase, DATABASE_FILE, type OpenOptions } from './database.js';
import { SqliteConsentStore } from './consent-store.js';
import { SqliteOAuthStore } from './oauth-store.js';
import { SqliteRevocationStore } from './revocation-store.js';
import { SqliteSettingsStore } from './settings-store.js';
import { SqliteSigningKeyStore } from './signing-key-store.js';
import { type AuditSync, WalSyncedAuditStore } from './wal-synced-audit-store.js';
import { SqliteVaultStore } from './vault-store.js';
import { SqliteLeaseStore } from './lease-store.js';
import { SqliteUserStore } from './user-store.js';
import { SqliteToolPinStore } from './tool-pin-store.js';
import { SqliteMcpSessionStore } from './mcp-session-store.js';

export { SqliteDatabase, DATABASE_FILE };

export interface SqliteStorageOptions extends OpenOptions {
  /** fsync audit commits off the event loop (the gateway does; short CLI commands need not). */
  asyncAuditSync?: boolean;
  /** With `asyncAuditSync`: fdatasync every audit commit (`fsync`, default) or stop at the OS (`os`). */
  auditSync?: AuditSync;
}

export class SqliteStorage implements Storage {
  readonly kind = 'sqlite' as const;
  readonly settings: SqliteSettingsStore;
  readonly signingKeys: SqliteSigningKeyStore;
  readonly audit: SqliteAuditStore | WalSyncedAuditStore;
  readonly vault: SqliteVaultStore;
  readonly leases: SqliteLeaseStore;
  readonly users: SqliteUserStore;
  readonly oauth: SqliteOAuthStore;
  readonly consents: SqliteConsentStore;
  readonly connections: SqliteConnectionStore;
  readonly revocations: SqliteRevocationStore;
  readonly approvals: SqliteApprovalStore;
  readonly toolPins: SqliteToolPinStore;
  readonly mcpSessions: SqliteMcpSessionStore;

  constructor(
    readonly sql: SqliteDatabase,
    dataDir: string,
    options: SqliteStorageOptions = {},
  ) {
    this.settings = new SqliteSettingsStore(sql);
    this.signingKeys = new SqliteSigningKeyStore(sql);
    this.vault = new SqliteVaultStore(sql);
    this.leases = new SqliteLeaseStore(sql);
    this.users = new SqliteUserStore(sql);
    this.oauth = new SqliteOAuthStore(sql);
    this.consents = new SqliteConsentStore(sql);
    this.connections = new SqliteConnectionStore(sql);
    this.revocations = new SqliteRevocationStore(sql);
    this.approvals = new SqliteApprovalStore(sql);
    this.toolPins = new SqliteToolPinStore(sql);
    this.mcpSessions = new SqliteMcpSessionStore(sql);
    const audit = new SqliteAuditStore(sql);
    this.audit = options.asyncAuditSync ? new WalSyncedAuditStore(dataDir, audit, options.auditSync) : audit;
  }

  static open(dataDir: string, options: SqliteStorageOptions = {}): SqliteStorage {
    return new SqliteStorage(SqliteDatabase.open(dataDir, options), dataDir, options);
  }

  externalChanges(): boolean {
    return this.sql.externalChanges();
  }

  async probeWritable(): Promise<void> {
    this.sql
      .statement("INSERT INTO settings (key, value) VALUES ('probe.writable', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(String(Date.now()));
  }

  async close(): Promise<void> {
    if (this.audit instanceof WalSyncedAuditStore) await this.audit.close();
    this.sql.close();
  }
}
