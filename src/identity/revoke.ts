import { AuditKind, type AuditLog, namedActor } from '../audit/index.js';
import type { RevocationEntry, RevocationKind, Storage } from '../storage/index.js';

export interface RevokeRequest {
  kind: RevocationKind;
  value: string;
  /** Who: `os:<login>` from the CLI, or the signed-in user on the connected-clients page. */
  by: string;
  reason?: string | undefined;
}

export interface RevokeDeps {
  storage: Pick<Storage, 'revocations' | 'oauth' | 'consents'>;
  audit: AuditLog;
  /** Longest an access token can live: after this, the entry cannot match anything. */
  maxTokenTtlMs: number;
  /** Records the entry; defaults to writing it straight to storage (the CLI). */
  record?(entry: Omit<RevocationEntry, 'id'>): Promise<RevocationEntry>;
  clock?: () => number;
}

/** Clock skew tolerated by verifiers, added to every entry's lifetime. */
const SKEW_MS = 60_000;

/**
 * Revokes now: records the entry (every node's revocation list picks it up before its next
 * request), removes what could mint new tokens (refresh-token families, codes, sign-in
 * sessions, consents for a revoked client), and writes who did it to the audit log.
 */
export async function revoke(deps: RevokeDeps, request: RevokeRequest): Promise<{ entry: RevocationEntry; removed: number }> {
  const now = (deps.clock ?? Date.now)();
  const entry: Omit<RevocationEntry, 'id'> = {
    kind: request.kind,
    value: request.value,
    revokedAt: now,
    expiresAt: now + deps.maxTokenTtlMs + SKEW_MS,
    revokedBy: request.by,
    reason: request.reason ?? null,
  };
  let removed = 0;
  switch (request.kind) {
    case 'user':
      removed = await deps.storage.oauth.deleteByAccount(request.value);
      break;
    case 'client':
      removed = (await deps.storage.oauth.deleteByClient(request.value)) + (await deps.storage.consents.deleteForClient(request.value));
      break;
    case 'grant':
      await deps.storage.oauth.revokeByGrantId(request.value);
      break;
    default:
      break;
  }
  const stored = deps.record ? await deps.record(entry) : await deps.storage.revocations.add(entry);
  await deps.audit.append(
    AuditKind.Revoked,
    { actor: namedActor(request.by), revoked: { kind: request.kind, value: request.value, id: stored.id, reason: request.reason, artifactsRemoved: removed } },
    { durable: true },
  );
  return { entry: stored, removed };
}
