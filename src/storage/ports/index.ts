import type { ApprovalStore } from './approval-store.js';
import type { ConnectionStore } from './connection-store.js';
import type { AuditStore } from './audit-store.js';
import type { ConsentStore } from './consent-store.js';
import type { OAuthStore } from './oauth-store.js';
import type { RevocationStore } from './revocation-store.js';
import type { SettingsStore } from './settings-store.js';
import type { SigningKeyStore } from './signing-key-store.js';
import type { VaultStore } from './vault-store.js';
import type { LeaseStore } from './lease-store.js';
import type { UserStore } from './user-store.js';
import type { ToolPinStore } from './tool-pin-store.js';
import type { McpSessionStore } from './mcp-session-store.js';

export type { AuditStore, AuditQuery, AuditLinker, NewAuditEntry, StoredAuditRecord, StoredCheckpoint } from './audit-store.js';
export type { ConnectionStore, ConnectionRecord, ConnectionMetadata, ConnectionTokens, PendingConnection } from './connection-store.js';
export type { SettingsStore } from './settings-store.js';
export type { ApprovalStore, ApprovalRecord, ApprovalStatus, ApprovalChannel, ApprovalFilter, ApprovalDecision, CallKey } from './approval-store.js';
export type { SigningKeyStore, SigningKeyRecord, KeyUse } from './signing-key-store.js';
export type { VaultStore, SealedSecret, SecretMetadata, StoredSecret } from './vault-store.js';
export type { LeaseStore, LeaseRecord, LeaseState } from './lease-store.js';
export type { UserStore, UserRecord, UserSource, NewUser, UserPatch, AttemptPolicy, AttemptReservation, FederatedLink } from './user-store.js';
export type { OAuthStore, OAuthArtifact } from './oauth-store.js';
export type { ConsentStore, ConsentRecord } from './consent-store.js';
export type { ToolPinStore, ToolPinRecord, ToolPinState, ToolPinReason, NewToolPin } from './tool-pin-store.js';
export type { McpSessionStore, McpSessionRecord, NewMcpSession, McpSessionMatch } from './mcp-session-store.js';
export type { RevocationStore, RevocationEntry, RevocationKind, NewRevocation } from './revocation-store.js';

/**
 * Everything Gatehouse persists, behind ports. The embedded SQLite implementation is the
 * default; a PostgreSQL one implements the same interfaces for clusters.
 */
export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  readonly settings: SettingsStore;
  readonly signingKeys: SigningKeyStore;
  readonly audit: AuditStore;
  /** Envelope-encrypted secrets (values never leave sealed form here). */
  readonly vault: VaultStore;
  /** Brokered-credential leases, for revocation and crash cleanup. */
  readonly leases: LeaseStore;
  readonly users: UserStore;
  /** The authorization server's artifacts (see `oauth.memoryOnly` for the in-memory alternative). */
  readonly oauth: OAuthStore;
  readonly consents: ConsentStore;
  /** Users' connections to downstream OAuth providers (sealed tokens, refresh lock). */
  readonly connections: ConnectionStore;
  readonly revocations: RevocationStore;
  readonly approvals: ApprovalStore;
  /** Pinned upstream tool definitions (rug-pull protection). */
  readonly toolPins: ToolPinStore;
  /** Routing data of session-era MCP sessions, so a session continues on any node. */
  readonly mcpSessions: McpSessionStore;
  /**
   * True when another process (a CLI command, another node) committed changes since the last
   * call. Cheap enough to ask on every request, which is what lets revocations written by the
   * CLI apply to the very next call. Only one consumer may call it (it resets on read): others
   * subscribe to the `ChangeFeed` (src/storage/change-feed.ts) instead.
   */
  externalChanges(): boolean;
  /** Proves the store accepts writes (for /readyz). */
  probeWritable(): Promise<void>;
  close(): Promise<void>;
}
