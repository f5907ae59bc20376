import { Worker } from 'node:worker_threads';
import type { AuditLinker, AuditQuery, AuditStore, NewAuditEntry, StoredAuditRecord, StoredCheckpoint } from '../ports/index.js';
import type { SqliteAuditStore } from './audit-store.js';
import type { WriterRequest, WriterResponse } from './audit-writer-worker.js';

/**
 * An AuditStore whose writes run in a worker thread (see audit-writer-worker.ts) and whose
 * reads use the caller's connection. The chain is linked inside the worker's transaction with
 * the same `linkRecord`, so records are identical to those of the in-thread store.
 */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class ThreadedAuditStore implements AuditStore {
  #worker: Worker;
  #nextId = 1;
  #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #failed: Error | undefined;

  constructor(
    dataDir: string,
    private readonly reader: SqliteAuditStore,
  ) {
    this.#worker = new Worker(new URL('./audit-writer-worker.js', import.meta.url), { workerData: { dataDir } });
    this.#worker.unref();
    this.#worker.on('message', (response: WriterResponse) => {
      const pending = this.#pending.get(response.id);
      if (!pending) return;
      this.#pending.delete(response.id);
      if (response.ok) pending.resolve(response.result);
      else pending.reject(new Error(response.error));
    });
    const fail = (error: Error) => {
      this.#failed = error;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`audit writer thread exited (${code})`)));
  }

  #call(request: WithoutId<WriterRequest>): Promise<unknown> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ ...request, id } as WriterRequest);
    }).finally(() => {
      if (this.#pending.size === 0) this.#worker.unref();
    });
  }

  appendChained(entries: readonly NewAuditEntry[], _link: AuditLinker): Promise<StoredAuditRecord[]> {
    return this.#call({ op: 'append', entries: entries as NewAuditEntry[] }) as Promise<StoredAuditRecord[]>;
  }

  async addCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    await this.#call({ op: 'checkpoint', checkpoint });
  }

  head() {
    return this.reader.head();
  }
  scan(fromSeq: number, limit: number) {
    return this.reader.scan(fromSeq, limit);
  }
  query(filter: AuditQuery) {
    return this.reader.query(filter);
  }
  checkpoints() {
    return this.reader.checkpoints();
  }
  count() {
    return this.reader.count();
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
