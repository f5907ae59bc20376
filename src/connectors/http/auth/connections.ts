import { AuditKind, type AuditLog } from '../../../audit/index.js';
import type { ConnectionMetadata, ConnectionStore } from '../../../storage/index.js';
import type { UserOAuthProvider } from './user-oauth.js';

export type ProviderRevocation = 'revoked' | 'unsupported' | 'failed' | 'unknown_server';

export interface RevokedConnection {
  user: string;
  server: string;
  provider: string;
  /** What the provider said to the RFC 7009 revocation (or why none was sent). */
  atProvider: ProviderRevocation;
}

/**
 * The servers whose credentials are users' own connections (`auth.type: userOAuth`), by name:
 * what the `/connections` page offers, and what disconnecting or revoking a user goes through.
 */
export class ConnectionRegistry {
  readonly #providers = new Map<string, UserOAuthProvider>();

  constructor(
    readonly store: ConnectionStore,
    private readonly audit: AuditLog,
  ) {}

  add(provider: UserOAuthProvider): void {
    this.#providers.set(provider.server, provider);
  }

  get(server: string): UserOAuthProvider | undefined {
    return this.#providers.get(server);
  }

  get servers(): UserOAuthProvider[] {
    return [...this.#providers.values()].sort((a, b) => a.server.localeCompare(b.server));
  }

  list(user?: string): Promise<ConnectionMetadata[]> {
    return this.store.list({ user });
  }

  /**
   * Removes the connection (tokens first, so nothing can use them any more), then revokes them
   * at the provider where it offers RFC 7009, and audits who did it.
   */
  async disconnect(user: string, server: string, by: string, via: 'page' | 'cli' | 'revoke'): Promise<RevokedConnection | undefined> {
    const removed = await this.store.delete(user, server);
    if (!removed) return undefined;
    const provider = this.#providers.get(server);
    const atProvider: ProviderRevocation = provider ? await provider.revokeAtProvider(removed) : 'unknown_server';
    await this.audit.append(
      AuditKind.ConnectionRevoked,
      { actor: { sub: by }, target: { server }, connection: { user, provider: removed.provider, via, atProvider } },
      { durable: true },
    );
    return { user, server, provider: removed.provider, atProvider };
  }

  /** Every connection of `user` (after `gatehouse revoke --user`). */
  async revokeUser(user: string, by: string): Promise<RevokedConnection[]> {
    const removed = await this.store.deleteUser(user);
    const results: RevokedConnection[] = [];
    for (const record of removed) {
      const provider = this.#providers.get(record.server);
      const atProvider: ProviderRevocation = provider ? await provider.revokeAtProvider(record) : 'unknown_server';
      await this.audit.append(
        AuditKind.ConnectionRevoked,
        { actor: { sub: by }, target: { server: record.server }, connection: { user, provider: record.provider, via: 'revoke', atProvider } },
        { durable: true },
      );
      results.push({ user, server: record.server, provider: record.provider, atProvider });
    }
    return results;
  }
}
