import { randomBytes } from 'node:crypto';
import type { AuditLog } from './audit/index.js';
import type { LoadedConfig } from './config/index.js';
import { secretResolver } from './config/secret-resolver.js';
import { requestClientIp, wideTrustedProxies } from './http/client-ip.js';
import { ConditionalAccess } from './identity/conditional-access.js';
import { revocationEffects } from './identity/revocation-effects.js';
import { UserDirectory } from './identity/users.js';
import type { Logger } from './log/index.js';
import type { SessionRegistry } from './mcp/session.js';
import { oauthServerFromConfig } from './oauth/from-config.js';
import { tokenIdentity } from './runtime.js';
import { ChangeFeed, MemoryOAuthStore, type OAuthStore, type Storage } from './storage/index.js';
import { AccessTokenVerifier, type KeyRing, RevocationList, verifierRules } from './tokens/index.js';
import type { Broker } from './vault/index.js';

export interface IdentityParts {
  config: LoadedConfig;
  storage: Storage;
  sessions: SessionRegistry;
  broker: Broker;
  tokenKeys: KeyRing;
  audit: AuditLog;
  log: Logger;
  /** The environment without the master key. */
  env: NodeJS.ProcessEnv;
  serverNames: () => string[];
}

/**
 * Part of the composition root: users, revocation, token verification and the authorization
 * server, and the change feed that keeps their in-memory copies current when another process
 * (a CLI command, another node) commits.
 */
export async function wireIdentity(parts: IdentityParts) {
  const { config, storage, sessions, broker, tokenKeys, audit, log, env } = parts;
  const changes = new ChangeFeed(storage);
  const { threshold, baseDelay, maxDelay } = config.identity.lockout;
  const users = new UserDirectory(storage.users, { threshold, baseDelayMs: baseDelay, maxDelayMs: maxDelay });
  const access = new ConditionalAccess(config.identity.conditionalAccess);
  // The one decision of who the client is (trustedProxies): conditional access, policy
  // context, audit records and the authorization server all use it.
  const clientIp = requestClientIp(config.trustedProxies);
  for (const cidr of wideTrustedProxies(config.trustedProxies)) {
    log.warn(
      { trustedProxy: cidr },
      'trustedProxies lists a wide range: every address in it can claim to forward for any client. List the proxies themselves.',
    );
  }
  const oauthStore: OAuthStore = config.oauth.memoryOnly ? new MemoryOAuthStore(storage.oauth) : storage.oauth;
  const revocations = new RevocationList(
    storage.revocations,
    storage.users,
    revocationEffects({ sessions, oauthStore, broker, sessionStore: storage.mcpSessions }),
  );
  changes.subscribe(() => revocations.refresh());
  changes.subscribe(() => tokenKeys.reload());
  const { issuer, audience } = tokenIdentity(config.publicUrl);
  // Memory-only: tokens from this process's authorization server carry its instance id.
  const instanceId = config.oauth.memoryOnly ? randomBytes(16).toString('base64url') : undefined;
  const rules = verifierRules({ instanceId, dpopRequired: config.oauth.dpop.required, revocations, poll: () => changes.poll() });
  const verifier = new AccessTokenVerifier(tokenKeys, { issuer, audience, maxTtlMs: config.tokens.maxTtl }, rules);
  await revocations.refresh();
  const oauth = await oauthServerFromConfig(config, {
    ...{ storage, oauthStore, keys: tokenKeys, verifier, revocations, users, access, audit, log, instanceId, clientIp },
    serverNames: parts.serverNames,
    secret: secretResolver(env),
    catchUp: () => changes.poll(),
  });
  return { changes, users, access, clientIp, oauthStore, revocations, audience, verifier, oauth };
}
