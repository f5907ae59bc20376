import type pg from 'pg';
import type { Storage } from '../storage/index.js';
import type { PostgresStorage } from '../storage/postgres/index.js';
import { lockKey } from '../storage/postgres/locks.js';

/** Runs `fn` unless another holder has `name`; then resolves undefined without running it. */
export type Exclusive = <T>(name: string, fn: () => Promise<T>) => Promise<T | undefined>;

/**
 * A cluster-wide try-lock on PostgreSQL: a transaction-scoped advisory lock held on one
 * connection while `fn` runs, so periodic maintenance (the lease janitor) runs on one node at
 * a time instead of every node dropping the same roles and writing the same audit records.
 * If the connection breaks, PostgreSQL releases the lock with it and the next pass anywhere
 * takes over; what runs under the lock is idempotent, so an overlap then costs nothing but
 * duplicate effort.
 */
export function postgresExclusive(pool: Pick<pg.Pool, 'connect'>): Exclusive {
  return async (name, fn) => {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1::bigint) AS got', [lockKey(name)]);
      if (!rows[0]?.got) return undefined;
      return await fn();
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      await client.query('COMMIT').catch(() => {
        broken = true;
      });
      client.release(broken);
    }
  };
}

/** One process on embedded SQLite is the only janitor there is: no lock needed. */
const local: Exclusive = (_name, fn) => fn();

/** The lock for this storage: cluster-wide on PostgreSQL, none on embedded SQLite. */
export function exclusiveFor(storage: Storage): Exclusive {
  // By kind, not instanceof: the PostgreSQL storage module is loaded only when it is configured.
  return storage.kind === 'postgres' ? postgresExclusive((storage as PostgresStorage).db.pool) : local;
}
