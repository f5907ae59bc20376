/**
 * The body of an audit record. Every field a reader may filter on has a fixed place, so
 * records from every stage and room look alike. Arguments are never stored raw: `args` is
 * the redacted form and `argsHash` binds the exact original (see redact-arguments.ts).
 */
export interface AuditActor {
  sub: string;
  groups?: readonly string[];
  client?: string | undefined;
  session?: string | undefined;
  ip?: string | undefined;
  /** Token id the request authenticated with. */
  jti?: string | undefined;
  /** RFC 8693 actor chain (agent, sub-agent). */
  act?: readonly string[] | undefined;
}

export interface AuditTarget {
  server?: string | undefined;
  /** Qualified `server__tool`. */
  tool?: string | undefined;
  resource?: string | undefined;
  prompt?: string | undefined;
}

export interface AuditBody {
  /** Correlates all records of one JSON-RPC request. */
  requestId?: string | undefined;
  actor?: AuditActor | undefined;
  method?: string | undefined;
  target?: AuditTarget | undefined;
  args?: unknown;
  argsHash?: string | undefined;
  decision?: { effect: string; reason?: string | undefined; policy?: string | undefined } | undefined;
  outcome?: { status: 'ok' | 'error' | 'denied' | 'cancelled'; code?: string | number | undefined; message?: string | undefined } | undefined;
  latencyMs?: number | undefined;
  /** The real downstream operation (SQL text, HTTP request), credentials redacted. */
  downstream?: unknown;
  [key: string]: unknown;
}

/** Record kinds. Dotted, stable, part of the interface (queries and SIEM rules match them). */
export const AuditKind = {
  CallIntent: 'call.intent',
  CallResult: 'call.result',
  CallDenied: 'call.denied',
  List: 'list',
  SessionStart: 'session.start',
  SessionEnd: 'session.end',
  AuthFailure: 'auth.failure',
  TokenIssued: 'admin.token_issued',
  GatewayStart: 'gateway.start',
  GatewayStop: 'gateway.stop',
  UpstreamExit: 'upstream.exit',
  /** Vault administration (CLI) and use (the gateway resolving a secret for a consumer). Never a value. */
  VaultPut: 'vault.put',
  VaultRotate: 'vault.rotate',
  VaultDelete: 'vault.delete',
  VaultUse: 'vault.use',
  VaultKeyBackup: 'vault.key_backup',
  /** Brokered (just-in-time) credentials: every issue, use and revocation, with actor and purpose. */
  LeaseIssue: 'lease.issue',
  LeaseUse: 'lease.use',
  LeaseRevoke: 'lease.revoke',
  LeaseRevokeFailed: 'lease.revoke_failed',
  /** Leftovers found in a downstream system itself (e.g. expired roles) and removed. */
  LeaseSweep: 'lease.sweep',
  // Identity and the authorization server.
  UserAdded: 'admin.user_added',
  UserDisabled: 'admin.user_disabled',
  UserEnabled: 'admin.user_enabled',
  MfaReset: 'admin.mfa_reset',
  PasswordSet: 'admin.password_set',
  Revoked: 'admin.revoke',
  Login: 'auth.login',
  LoginFailed: 'auth.login_failed',
  MfaEnrolled: 'auth.mfa_enrolled',
  ConditionalAccessDenied: 'auth.conditional_access_denied',
  ClientRegistered: 'oauth.client_registered',
  Consent: 'oauth.consent',
  ConsentRevoked: 'oauth.consent_revoked',
  OAuthTokenIssued: 'oauth.token_issued',
  TokenExchanged: 'oauth.token_exchange',
  /** A token exchange refused (client not allowed, widening, bad subject token): nothing was minted. */
  TokenExchangeRefused: 'oauth.token_exchange_refused',
  /** A user's connection to a downstream OAuth provider: made, refreshed, revoked, or found revoked by the provider. Never a token. */
  ConnectionConnected: 'connection.connected',
  ConnectionRefreshed: 'connection.refreshed',
  ConnectionRevoked: 'connection.revoked',
  ConnectionInvalidGrant: 'connection.invalid_grant',
  /** Single sign-on refused: the IdP subject is not linked to the existing account of that name. */
  IdentityLinkRefused: 'identity.link_refused',
  /** An operator linked or unlinked an IdP subject (issuer, subject) and a user (`users link`/`unlink`). */
  IdentityLinked: 'admin.identity_linked',
  IdentityUnlinked: 'admin.identity_unlinked',
  RefreshReuse: 'oauth.refresh_reuse',
  KeyRotated: 'admin.key_rotated',
  PolicyLoaded: 'policy.loaded',
  PolicyReloaded: 'policy.reloaded',
  PolicyReloadRefused: 'policy.reload_refused',
  ApprovalRequested: 'approval.requested',
  ApprovalDecided: 'approval.decided',
  ApprovalUsed: 'approval.used',
  ApprovalRefused: 'approval.refused',
  ApprovalBreakGlass: 'approval.break_glass',
  ApprovalNotifyFailed: 'approval.notify_failed',
  /** A request an upstream sent to a client (sampling, elicitation, roots), relayed or refused. */
  UpstreamRequest: 'upstream.request',
  /** An outbound connection refused by the egress guard (a non-public address, a redirect, an oversized response). */
  EgressBlocked: 'egress.blocked',
  /** The output sanitizer changed or withheld a message outside a call's result (an error, a notification, a request to the client). */
  OutputRedacted: 'output.redacted',
  /** An upstream tool definition differs from its pin, or appeared after the first catalog: quarantined until approved. */
  ToolChanged: 'tool.changed',
  /** An operator approved a tool definition (`gatehouse tools approve`). */
  ToolApproved: 'tool.approved',
  /** A tool or prompt description reads like instructions to the model (finding ids, never the text). */
  ToolFlagged: 'tool.flagged',
  /** Instruction-like text inside a result of a server marked untrusted (finding ids, never the text). */
  ContentFlagged: 'content.flagged',
} as const;

/** One of the record kinds above: `AuditLog.append` takes nothing else. */
export type AuditKindName = (typeof AuditKind)[keyof typeof AuditKind];
