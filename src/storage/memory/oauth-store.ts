import type { OAuthStore } from '../ports/index.js';

interface Entry {
  model: string;
  payload: Record<string, unknown>;
  expiresAt: number | null;
  consumedAt: number | null;
  grantId: string | null;
  accountId: string | null;
  clientId: string | null;
  uid: string | null;
  userCode: string | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * The authorization server's artifacts held only in this process (`oauth.memoryOnly`): nothing
 * token-ish touches the disk, and a restart forces everyone to sign in again. Registered
 * clients still go to `persistent`, so clients need not re-register after a restart.
 */
export class MemoryOAuthStore implements OAuthStore {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly persistent?: OAuthStore) {}

  #key(model: string, id: string): string {
    return `${model}\u0000${id}`;
  }

  #live(entry: Entry | undefined): Record<string, unknown> | undefined {
    if (!entry) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= Date.now()) return undefined;
    return { ...entry.payload, ...(entry.consumedAt !== null ? { consumed: Math.floor(entry.consumedAt / 1000) } : {}) };
  }

  async upsert(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null): Promise<void> {
    if (model === 'Client' && this.persistent) return this.persistent.upsert(model, id, payload, expiresAt);
    const previous = this.#entries.get(this.#key(model, id));
    this.#entries.set(this.#key(model, id), {
      model,
      payload: structuredClone(payload),
      expiresAt,
      consumedAt: previous?.consumedAt ?? null,
      grantId: model === 'Grant' ? id : text(payload.grantId),
      accountId: text(payload.accountId),
      clientId: text(payload.clientId ?? payload.client_id),
      uid: text(payload.uid),
      userCode: text(payload.userCode),
    });
  }

  async find(model: string, id: string): Promise<Record<string, unknown> | undefined> {
    if (model === 'Client' && this.persistent) return this.persistent.find(model, id);
    return this.#live(this.#entries.get(this.#key(model, id)));
  }

  async findByUid(model: string, uid: string): Promise<Record<string, unknown> | undefined> {
    for (const entry of this.#entries.values()) if (entry.model === model && entry.uid === uid) return this.#live(entry);
    return undefined;
  }

  async findByUserCode(model: string, userCode: string): Promise<Record<string, unknown> | undefined> {
    for (const entry of this.#entries.values()) if (entry.model === model && entry.userCode === userCode) return this.#live(entry);
    return undefined;
  }

  async consume(model: string, id: string): Promise<{ first: boolean; grantId: string | null }> {
    const entry = this.#entries.get(this.#key(model, id));
    if (!entry || entry.consumedAt !== null) return { first: false, grantId: entry?.grantId ?? null };
    entry.consumedAt = Date.now();
    return { first: true, grantId: entry.grantId };
  }

  async destroy(model: string, id: string): Promise<void> {
    if (model === 'Client' && this.persistent) return this.persistent.destroy(model, id);
    this.#entries.delete(this.#key(model, id));
  }

  #deleteWhere(match: (entry: Entry) => boolean): number {
    let n = 0;
    for (const [key, entry] of this.#entries) {
      if (match(entry)) {
        this.#entries.delete(key);
        n++;
      }
    }
    return n;
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.#deleteWhere((e) => e.grantId === grantId);
  }

  async deleteByAccount(accountId: string): Promise<number> {
    return this.#deleteWhere((e) => e.model !== 'Client' && e.accountId === accountId);
  }

  async deleteByClient(clientId: string): Promise<number> {
    return this.#deleteWhere((e) => e.model !== 'Client' && e.clientId === clientId);
  }

  async grantIds(accountId: string, clientId?: string): Promise<string[]> {
    const out: string[] = [];
    for (const e of this.#entries.values()) {
      if (e.model === 'Grant' && e.accountId === accountId && (clientId === undefined || e.clientId === clientId) && e.grantId) out.push(e.grantId);
    }
    return out;
  }

  async purgeExpired(now: number): Promise<number> {
    return this.#deleteWhere((e) => e.expiresAt !== null && e.expiresAt <= now);
  }
}
