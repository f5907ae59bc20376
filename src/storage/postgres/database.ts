import { randomUUID } from 'node:crypto';
import pg, { type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import { MIGRATIONS, type PostgresMigration } from './migrations/index.js';

/**
 * Key of the session-level advisory lock migrations run under ("gatehous" in ASCII): nodes
 * starting together queue on it, and the first applies what is missing.
 */
export const MIGRATION_LOCK_KEY = 0x67617465686f7573n;

/** BIGINT columns hold epoch milliseconds and sequence numbers: all well inside 2^53. */
const INT8_OID = 20;
/**
 * Every connection: its node id (change notifications), and a bound on how long a transaction
 * may sit idle, so a node that stalls mid-append (a partition, a stopped process) cannot hold
 * the audit chain's lock for longer than that; the server ends its session and rolls back.
 */
const sessionOptions = (nodeId: string) => `-c gatehouse.node=${nodeId} -c idle_in_transaction_session_timeout=15000`;

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * A pg pool with Gatehouse's type parsing, transactions and migrations. Every connection
 * names its node (`gatehouse.node`), which the change triggers put in their notifications, so
 * a node can tell its own writes from everyone else's.
 */
export class PostgresDatabase {
  readonly pool: pg.Pool;
  /** Identifies this process's connections in change notifications. */
  readonly nodeId: string;
  readonly #config: PoolConfig;

  private constructor(config: PoolConfig, nodeId: string) {
    this.nodeId = nodeId;
    this.#config = config;
    this.pool = new pg.Pool({ connectionTimeoutMillis: 10_000, keepAlive: true, ...config, types, options: sessionOptions(nodeId) });
    // An idle client losing its connection (server restart) must not crash the process: the
    // pool drops it and the next query connects again.
    this.pool.on('error', () => undefined);
    // A checked-out client (between the statements of a transaction, or held by a caller) that
    // loses its connection emits 'error' on itself, where the pool's handler is not attached:
    // unhandled, that ends the process. The caller's next statement fails and handles it.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** Connects, applies missing migrations under the advisory lock, and returns the database. */
  static async open(config: PoolConfig, migrations: readonly PostgresMigration[] = MIGRATIONS): Promise<PostgresDatabase> {
    const db = new PostgresDatabase(config, randomUUID().replaceAll('-', ''));
    try {
      await db.migrate(migrations);
    } catch (error) {
      await db.pool.end().catch(() => undefined);
      throw error;
    }
    return db;
  }

  /** A separate client with the same settings (not from the pool): the change listener's. */
  newClient(): pg.Client {
    return new pg.Client({ connectionTimeoutMillis: 10_000, keepAlive: true, ...this.#config, types, options: sessionOptions(this.nodeId) });
  }

  query<R extends QueryResultRow = QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params);
  }

  async rows<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
  }

  async row<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R | undefined> {
    return (await this.pool.query<R>(sql, params)).rows[0];
  }

  /** Runs `fn` in BEGIN … COMMIT on one pooled connection (ROLLBACK if it throws). */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: it is discarded, not reused.
      client.release(broken);
    }
  }

  /**
   * Applies every migration not yet recorded, each in its own transaction, while holding a
   * session advisory lock: concurrent starters wait, then find the work done. The lock is
   * released by the unlock below or, if this process dies, by the server closing the session.
   */
  async migrate(migrations: readonly PostgresMigration[] = MIGRATIONS): Promise<string[]> {
    const client = await this.pool.connect();
    const applied: string[] = [];
    let broken = false;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
        const done = new Set((await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id));
        for (const migration of [...migrations].sort((a, b) => a.id.localeCompare(b.id))) {
          if (done.has(migration.id)) continue;
          await client.query('BEGIN');
          try {
            await client.query(migration.sql);
            await client.query('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [migration.id, Date.now()]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK').catch(() => {
              broken = true;
            });
            throw new Error(`storage migration ${migration.id} failed: ${(error as Error).message}`, { cause: error });
          }
          applied.push(migration.id);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]).catch(() => {
          broken = true;
        });
      }
    } finally {
      client.release(broken);
    }
    return applied;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
