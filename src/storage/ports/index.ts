import type { ApprovalStore } from './approval-store.js';
import type { AuditStore } from './audit-store.js';
import type { SettingsStore } from './settings-store.js';
import type { SigningKeyStore } from './signing-key-store.js';

export type { AuditStore, AuditQuery, AuditLinker, NewAuditEntry, StoredAuditRecord, StoredCheckpoint } from './audit-store.js';
export type { SettingsStore } from './settings-store.js';
export type { ApprovalStore, ApprovalRecord, ApprovalStatus, ApprovalChannel, ApprovalFilter, ApprovalDecision } from './approval-store.js';
export type { SigningKeyStore, SigningKeyRecord, KeyUse } from './signing-key-store.js';

/**
 * Everything Gatehouse persists, behind ports. The embedded SQLite implementation is the
 * default; a PostgreSQL one implements the same interfaces for clusters.
 */
export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  readonly settings: SettingsStore;
  readonly signingKeys: SigningKeyStore;
  readonly audit: AuditStore;
  readonly approvals: ApprovalStore;
  /**
   * True when another process (a CLI command, another node) committed changes since the last
   * call. Cheap enough to ask on every request, which is what lets revocations written by the
   * CLI apply to the very next call.
   */
  externalChanges(): boolean;
  /** Proves the store accepts writes (for /readyz). */
  probeWritable(): Promise<void>;
  close(): Promise<void>;
}
