import { createHash } from 'node:crypto';

/**
 * Remembers one-time values (DPoP proof `jti`s) until they expire. `firstUse` is an atomic
 * insert-or-fail: of any number of concurrent callers presenting the same key — in this
 * process or, with a shared store, on any node — exactly one gets `true`.
 */
export interface ReplayCache {
  /** True when `key` was not seen (or its earlier use has expired); it is then remembered until `expiresAtMs`. */
  firstUse(key: string, expiresAtMs: number): Promise<boolean>;
}

/**
 * The cache key of a DPoP proof: its `jti` scoped to the key that signed it, hashed so the
 * stored key has a fixed size whatever a client chose as its `jti`.
 */
export function dpopReplayKey(jkt: string, jti: string): string {
  // JSON keeps look-alike pairs apart whatever characters either holds.
  return createHash('sha256')
    .update(JSON.stringify([jkt, jti]))
    .digest('base64url');
}

/** One process's memory: enough for a single node, where every proof reaches the same process. */
export class MemoryReplayCache implements ReplayCache {
  readonly #seen = new Map<string, number>();
  #pruneAt = 0;

  constructor(
    private readonly pruneEveryMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async firstUse(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.now();
    this.#prune(now);
    const until = this.#seen.get(key);
    if (until !== undefined && until >= now) return false;
    this.#seen.set(key, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  #prune(now: number): void {
    if (now < this.#pruneAt) return;
    this.#pruneAt = now + this.pruneEveryMs;
    for (const [key, until] of this.#seen) if (until < now) this.#seen.delete(key);
  }
}
