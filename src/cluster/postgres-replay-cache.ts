import type pg from 'pg';
import type { ReplayCache } from '../tokens/index.js';

/** How often a node deletes expired rows (any node's; the delete is idempotent). */
const PRUNE_EVERY_MS = 60_000;

/**
 * The replay cache in PostgreSQL, shared by every node: a DPoP proof used on one node is
 * refused on all others. One statement decides: the insert succeeds when the key is new, or
 * takes over a row whose earlier use has expired; otherwise nothing is written and the caller
 * loses. The primary key makes concurrent claims of the same key race inside PostgreSQL, where
 * exactly one wins. A store error propagates: a proof that cannot be checked is not accepted.
 */
export class PostgresReplayCache implements ReplayCache {
  #pruneAt = 0;

  constructor(
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly now: () => number = Date.now,
  ) {}

  async firstUse(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.now();
    const result = await this.pool.query(
      `INSERT INTO replay_cache (key, expires_at) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE replay_cache.expires_at < $3`,
      [key, expiresAtMs, now],
    );
    if (now >= this.#pruneAt) {
      this.#pruneAt = now + PRUNE_EVERY_MS;
      // Not needed for correctness (expired rows are taken over above); keeps the table small.
      void this.pool.query('DELETE FROM replay_cache WHERE expires_at < $1', [now]).catch(() => undefined);
    }
    return result.rowCount === 1;
  }
}
