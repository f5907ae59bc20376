import { errors } from 'oidc-provider';
import type { OAuthStore } from '../storage/index.js';

const CONSUMED_LABEL: Record<string, string> = { RefreshToken: 'refresh token already used', AuthorizationCode: 'authorization code already consumed' };

/**
 * oidc-provider's storage adapter interface (one instance per model name), backed by an
 * OAuthStore port: SQLite by default, memory in `oauth.memoryOnly` mode.
 */
export function storeAdapter(store: OAuthStore, onReuse: (grantId: string) => Promise<void> = async () => undefined) {
  return class GatehouseAdapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      await store.upsert(this.model, id, payload, expiresIn ? Date.now() + expiresIn * 1000 : null);
    }

    find(id: string): Promise<Record<string, unknown> | undefined> {
      return store.find(this.model, id);
    }

    findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
      return store.findByUserCode(this.model, userCode);
    }

    findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      return store.findByUid(this.model, uid);
    }

    /**
     * oidc-provider checks `consumed` and then consumes, with awaits in between: two requests
     * with the same code or refresh token could both pass. The store's compare-and-set lets
     * exactly one through; the loser is treated as the reuse it is (the grant is revoked).
     */
    async consume(id: string): Promise<void> {
      const { first, grantId } = await store.consume(this.model, id);
      if (first) return;
      if (grantId) {
        await store.revokeByGrantId(grantId);
        await onReuse(grantId);
      }
      throw new errors.InvalidGrant(CONSUMED_LABEL[this.model] ?? `${this.model} already used`);
    }

    destroy(id: string): Promise<void> {
      return store.destroy(this.model, id);
    }

    revokeByGrantId(grantId: string): Promise<void> {
      return store.revokeByGrantId(grantId);
    }
  };
}
