import type { Context } from 'hono';
import type { AuditLog } from '../audit/index.js';
import type { LoadedConfig } from '../config/index.js';
import { auditBlockedEgress, createGuardedFetch, EgressGuard } from '../egress/index.js';
import type { ConditionalAccess } from '../identity/conditional-access.js';
import { UpstreamIdp } from '../identity/federation.js';
import { revoke } from '../identity/revoke.js';
import type { UserDirectory } from '../identity/users.js';
import type { Logger } from '../log/index.js';
import type { OAuthStore, RevocationEntry, Storage } from '../storage/index.js';
import type { AccessTokenVerifier, KeyRing, RevocationList } from '../tokens/index.js';
import { OAuthServer } from './server.js';

/** The enterprise IdP users sign in through (`identity.upstream`), when configured. */
export function upstreamIdpFromConfig(
  config: LoadedConfig,
  deps: { audit: AuditLog; log: Logger; secret(value: string, where: string): string },
): UpstreamIdp | undefined {
  const upstream = config.identity.upstream;
  if (!upstream) return undefined;
  if (upstream.dangerouslyAllowHttpIssuer) {
    deps.log.warn({ issuer: upstream.issuer }, 'identity.upstream.dangerouslyAllowHttpIssuer is on: the IdP is reached over plain HTTP. Use only in tests.');
  }
  return new UpstreamIdp(
    upstream,
    `${config.publicUrl}/oauth/sso/callback`,
    upstream.clientSecret ? deps.secret(upstream.clientSecret, 'identity.upstream.clientSecret') : undefined,
    deps.log.child({ room: 'federation' }),
    // The IdP is the operator's, its endpoints come from its discovery document: both go
    // through the egress guard (a private IdP must be listed in egress.allowAddresses).
    createGuardedFetch({
      guard: new EgressGuard({ purpose: 'identity provider', allowAddresses: config.egress.allowAddresses, onBlocked: auditBlockedEgress(deps.audit) }),
      maxResponseBytes: 256 * 1024,
      timeoutMs: 10_000,
    }).fetch,
  );
}

export interface OAuthWiring {
  storage: Storage;
  /** The artifact store (memory in `oauth.memoryOnly` mode). */
  oauthStore: OAuthStore;
  keys: KeyRing;
  verifier: AccessTokenVerifier;
  revocations: RevocationList;
  users: UserDirectory;
  access: ConditionalAccess;
  audit: AuditLog;
  log: Logger;
  serverNames(): readonly string[];
  instanceId: string | undefined;
  secret(value: string, where: string): string;
  clientIp(c: Context): string | undefined;
  /** Catches up with commits from other processes. */
  catchUp(): Promise<void> | undefined;
}

/** The authorization server, or undefined when `oauth.enabled` is false. */
export async function oauthServerFromConfig(config: LoadedConfig, deps: OAuthWiring): Promise<OAuthServer | undefined> {
  // Built (and its secret resolved) even when the authorization server is off, so a broken
  // `identity.upstream` is reported the same way either way.
  const upstream = upstreamIdpFromConfig(config, deps);
  if (!config.oauth.enabled) return undefined;
  const { storage, oauthStore, audit, revocations } = deps;
  const maxTokenTtlMs = config.tokens.maxTtl;
  const record = (entry: Omit<RevocationEntry, 'id'>) => revocations.add(entry);
  return OAuthServer.create({
    config,
    store: oauthStore,
    settings: storage.settings,
    consents: storage.consents,
    keys: deps.keys,
    verifier: deps.verifier,
    users: deps.users,
    access: deps.access,
    upstream,
    audit,
    log: deps.log.child({ room: 'oauth' }),
    serverNames: deps.serverNames,
    instanceId: deps.instanceId,
    secret: deps.secret,
    clientIp: deps.clientIp,
    revokeToken: async (jti, expiresAt, by) => {
      await revoke(
        { storage, audit, maxTokenTtlMs, record: (e) => record({ ...e, expiresAt: Math.max(expiresAt, Date.now()) + 60_000 }) },
        { kind: 'token', value: jti, by: `client:${by}`, reason: 'revoked by its client (RFC 7009)' },
      );
    },
    afterLatestRevocation: () => revocations.afterLatestCutoff(),
    catchUp: deps.catchUp,
    revokeGrant: async (grantId, by) => {
      await revoke(
        { storage: { ...storage, oauth: oauthStore }, audit, maxTokenTtlMs, record },
        { kind: 'grant', value: grantId, by, reason: 'revoked on the connected-clients page' },
      );
    },
  });
}
