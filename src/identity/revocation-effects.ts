import type { McpSessionMatch, McpSessionStore, NewRevocation, OAuthStore, RevocationEntry } from '../storage/index.js';

/** An open MCP session, as far as revocation is concerned. */
export interface RevocableSession {
  readonly id: string;
  readonly sub: string;
  readonly clientId: string | undefined;
  /** The token (and its authorization) that opened the session. */
  readonly openedWith: { jti: string; grantId: string | undefined } | undefined;
}

export interface RevocationEffectDeps<S extends RevocableSession> {
  sessions: { values(): Iterable<S>; get(id: string): S | undefined; close(session: S, reason: 'revoked'): Promise<void> };
  oauthStore: Pick<OAuthStore, 'deleteByAccount' | 'deleteByClient' | 'revokeByGrantId'>;
  /** Just-in-time credentials of a revoked user. */
  broker: { revokeActor(sub: string, reason: string): Promise<unknown> };
  /** Sessions kept in the store (any node may serve them): ended there too, whoever holds them. */
  sessionStore?: Pick<McpSessionStore, 'terminate' | 'live'>;
}

/**
 * What a revocation does besides refusing tokens: end the MCP sessions it covers and drop
 * what could mint new tokens (refresh-token families, codes, sign-in sessions). Runs for every
 * new entry, whichever process wrote it.
 */
export function revocationEffects<S extends RevocableSession>(
  deps: RevocationEffectDeps<S>,
): (entry: RevocationEntry, list: { add(entry: NewRevocation): Promise<unknown> }) => Promise<void> {
  const { sessions, oauthStore, broker, sessionStore } = deps;
  const closeWhere = (match: (s: S) => boolean) => {
    for (const session of [...sessions.values()]) if (match(session)) void sessions.close(session, 'revoked');
  };
  const stored: Record<RevocationEntry['kind'], (value: string) => McpSessionMatch> = {
    user: (sub) => ({ sub }),
    client: (clientId) => ({ clientId }),
    grant: (grantId) => ({ grantId }),
    token: (jti) => ({ jti }),
    session: (id) => ({ id }),
  };
  return async (entry, list) => {
    const v = entry.value;
    switch (entry.kind) {
      case 'user':
        closeWhere((s) => s.sub === v);
        await oauthStore.deleteByAccount(v);
        // Just-in-time credentials end with the user's access, not at their TTL.
        await broker.revokeActor(v, 'user revoked');
        break;
      case 'client':
        closeWhere((s) => s.clientId === v);
        await oauthStore.deleteByClient(v);
        break;
      case 'grant':
        closeWhere((s) => s.openedWith?.grantId === v);
        await oauthStore.revokeByGrantId(v);
        break;
      case 'token':
        closeWhere((s) => s.openedWith?.jti === v);
        break;
      case 'session': {
        const session = sessions.get(v);
        if (session) void sessions.close(session, 'revoked');
        // A stored session no node holds: the node whose store update ends it (exactly one) also
        // revokes what opened it, as the holder would.
        const record = !session && sessionStore ? await sessionStore.live(v, Date.now()) : undefined;
        const claimed = record !== undefined && (await sessionStore?.terminate({ id: v }, entry.revokedAt)) === 1;
        const opened = session ? session.openedWith : claimed ? { jti: record.openedJti, grantId: record.openedGrantId } : undefined;
        if (opened) {
          // The authorization that opened the session goes too; recorded after this refresh finishes.
          setImmediate(() => {
            const base = { revokedAt: entry.revokedAt, expiresAt: entry.expiresAt, revokedBy: entry.revokedBy, reason: `session ${v} revoked` };
            void list.add({ kind: 'token', value: opened.jti, ...base });
            if (opened.grantId) void list.add({ kind: 'grant', value: opened.grantId, ...base });
          });
        }
        break;
      }
    }
    // After the sessions held here are closed (which must not wait on the store): the stored
    // ones, so no node recreates them. Every node runs this for every entry; ending twice changes nothing.
    await sessionStore?.terminate(stored[entry.kind](v), entry.revokedAt);
  };
}
