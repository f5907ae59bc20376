import type { OAuthStore } from '../storage/index.js';

/**
 * oidc-provider's storage adapter interface (one instance per model name), backed by an
 * OAuthStore port: SQLite by default, memory in `oauth.memoryOnly` mode.
 */
export function storeAdapter(store: OAuthStore) {
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

    consume(id: string): Promise<void> {
      return store.consume(this.model, id);
    }

    destroy(id: string): Promise<void> {
      return store.destroy(this.model, id);
    }

    revokeByGrantId(grantId: string): Promise<void> {
      return store.revokeByGrantId(grantId);
    }
  };
}
