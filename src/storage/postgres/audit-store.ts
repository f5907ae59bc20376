import type { PoolClient } from 'pg';
import type { AuditLinker, AuditQuery, AuditStore, NewAuditEntry, StoredAuditRecord, StoredCheckpoint } from '../ports/index.js';
import { GENESIS_HASH } from '../ports/audit-store.js';
import type { PostgresDatabase } from './database.js';
import { type Row, fromRow, COLUMNS, auditComparisons } from '../rows/audit-row.js';
import { auditIndexedFields } from './audit-indexed-fields.js';

interface Pending {
  entries: readonly NewAuditEntry[];
  link: AuditLinker;
  resolve(records: StoredAuditRecord[]): void;
  reject(error: Error): void;
}

/** Opens the append transaction, takes the chain lock and reads the head, in one message. */
const LOCK_AND_READ_HEAD = 'BEGIN; SELECT id FROM audit_head WHERE id = 1 FOR UPDATE; SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1';

/** SQLSTATE classes where the server refused the statement itself (bad data), not the connection. */
const REJECTED_STATEMENT = /^(22|23)/;

/**
 * One audit chain, many writers. Each commit is a transaction that first locks the single
 * `audit_head` row (`SELECT … FOR UPDATE`): appends from every node queue there, and whoever
 * holds the lock reads the last record, links its entries after it, inserts them and commits,
 * which releases the lock to the next. The chain therefore never forks however many nodes
 * write, and `audit verify` reads it like the SQLite one.
 *
 * Group commit per node: appends that arrive while a commit is in flight wait and then go
 * together in the next transaction (one lock acquisition, one WAL flush), each caller getting
 * back its own records once that transaction has committed.
 */
export class PostgresAuditStore implements AuditStore {
  #queue: Pending[] = [];
  #flushing: Promise<void> | undefined;

  constructor(private readonly db: PostgresDatabase) {}

  async head(): Promise<Pick<StoredAuditRecord, 'seq' | 'hash'> | undefined> {
    return this.db.row<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
  }

  appendChained(entries: readonly NewAuditEntry[], link: AuditLinker): Promise<StoredAuditRecord[]> {
    if (entries.length === 0) return Promise.resolve([]);
    return new Promise<StoredAuditRecord[]>((resolve, reject) => {
      this.#queue.push({ entries, link, resolve, reject });
      this.#flushing ??= this.#drain();
    });
  }

  async #drain(): Promise<void> {
    // Let every append issued in this turn of the event loop join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        const stored = await this.#commit(batch);
        batch.forEach((pending, i) => {
          pending.resolve(stored[i] as StoredAuditRecord[]);
        });
      } catch (error) {
        if (batch.length > 1 && REJECTED_STATEMENT.test(String((error as { code?: unknown }).code ?? ''))) {
          // One caller's bad entry must not sink the others: the server rejected the statement
          // (nothing was committed), so each caller is retried on its own.
          for (const pending of batch) {
            await this.#commit([pending]).then(
              (stored) => pending.resolve(stored[0] as StoredAuditRecord[]),
              (single: unknown) => pending.reject(single as Error),
            );
          }
        } else {
          // A lost connection may have lost the COMMIT's answer, not the commit: no retry, which
          // could write the records twice. The callers see the failure (and fail closed).
          for (const pending of batch) pending.reject(error as Error);
        }
      }
    }
    this.#flushing = undefined;
  }

  /**
   * Three round trips: BEGIN + lock + head read as one simple-protocol message, the INSERT, and
   * COMMIT.
   */
  async #commit(batch: readonly Pending[]): Promise<StoredAuditRecord[][]> {
    return this.#atHead(async (client, head) => {
      let prevHash = head.hash;
      let seq = head.seq;
      const perCaller: StoredAuditRecord[][] = [];
      const all: StoredAuditRecord[] = [];
      for (const pending of batch) {
        const records: StoredAuditRecord[] = [];
        for (const entry of pending.entries) {
          const record = pending.link(prevHash, ++seq, entry);
          records.push(record);
          all.push(record);
          prevHash = record.hash;
        }
        perCaller.push(records);
      }
      await insertRecords(client, all);
      return perCaller;
    });
  }

  /**
   * Runs `fn` in a transaction holding the chain's lock, with the head it read, and commits.
   * Whatever happens, the connection goes back to the pool only in a known state.
   */
  async #atHead<T>(fn: (client: PoolClient, head: { seq: number; hash: string }) => Promise<T>): Promise<T> {
    const client = await this.db.pool.connect();
    let broken = false;
    try {
      const results = (await client.query(LOCK_AND_READ_HEAD)) as unknown as { rows: { seq: number; hash: string }[] }[];
      const head = results[2]?.rows[0];
      const result = await fn(client, { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Appends records that were chained elsewhere (a copy of another store's log), exactly as
   * given: hashes are not recomputed, but each record must continue the chain where this store's
   * head is (next seq, prev_hash = head hash) and follow the one before it. Anything else throws
   * and writes nothing. `audit verify` afterwards recomputes every hash.
   */
  async appendVerbatim(records: readonly StoredAuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.#atHead(async (client, head) => {
      let { seq, hash: prevHash } = head;
      for (const record of records) {
        if (record.seq !== seq + 1 || record.prevHash !== prevHash) {
          throw new Error(`record #${record.seq} does not continue the chain at #${seq} (expected seq ${seq + 1} with prev_hash ${prevHash.slice(0, 12)}…)`);
        }
        seq = record.seq;
        prevHash = record.hash;
      }
      await insertRecords(client, records);
    });
  }

  async addCheckpoint(c: StoredCheckpoint): Promise<void> {
    await this.db.query('INSERT INTO audit_checkpoints (seq, ts, hash, kid, signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING', [
      c.seq,
      c.ts,
      c.hash,
      c.kid,
      c.signature,
    ]);
  }

  async scan(fromSeq: number, limit: number): Promise<StoredAuditRecord[]> {
    return (await this.db.rows<Row>(`SELECT ${COLUMNS} FROM audit_records WHERE seq >= $1 ORDER BY seq LIMIT $2`, [fromSeq, limit])).map(fromRow);
  }

  async query(filter: AuditQuery): Promise<StoredAuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    for (const [comparison, value] of auditComparisons(filter)) add((n) => `${comparison} ${n}`, value);
    if (filter.kinds && filter.kinds.length > 0) add((n) => `kind = ANY(${n}::text[])`, filter.kinds);
    params.push(filter.limit ?? 1000);
    const sql = `SELECT ${COLUMNS} FROM audit_records${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`;
    return (await this.db.rows<Row>(sql, params)).map(fromRow);
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    return this.db.rows<StoredCheckpoint>('SELECT seq, ts, hash, kid, signature FROM audit_checkpoints ORDER BY seq');
  }

  async count(): Promise<number> {
    return ((await this.db.row<{ n: number }>('SELECT count(*) AS n FROM audit_records')) as { n: number }).n;
  }

  /** Resolves when no commit is in flight (close waits for acknowledged appends to land). */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }
}

/** One multi-row INSERT (arrays unnested server-side): a batch costs one round trip. */
async function insertRecords(client: PoolClient, records: readonly StoredAuditRecord[]): Promise<void> {
  const subs: (string | null)[] = [];
  const tools: (string | null)[] = [];
  for (const record of records) {
    const { sub, tool } = auditIndexedFields(record.body);
    subs.push(sub);
    tools.push(tool);
  }
  await client.query(
    `INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash, sub, tool)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
    [
      records.map((r) => r.seq),
      records.map((r) => r.ts),
      records.map((r) => r.kind),
      records.map((r) => r.body),
      records.map((r) => r.prevHash),
      records.map((r) => r.hash),
      subs,
      tools,
    ],
  );
}
