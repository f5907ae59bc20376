import { parentPort, workerData } from 'node:worker_threads';
import { linkRecord } from '../../audit/chain.js';
import type { NewAuditEntry, StoredCheckpoint } from '../ports/index.js';
import { SqliteAuditStore } from './audit-store.js';
import { SqliteDatabase } from './database.js';

/**
 * Runs audit commits on their own thread and connection: the fsync of each group commit no
 * longer stalls the gateway's event loop, which keeps serving (and queueing the next batch)
 * while the disk works.
 */
export type WriterRequest = { id: number; op: 'append'; entries: NewAuditEntry[] } | { id: number; op: 'checkpoint'; checkpoint: StoredCheckpoint };
export type WriterResponse = { id: number; ok: true; result?: unknown } | { id: number; ok: false; error: string };

const port = parentPort;
if (port) {
  const sql = SqliteDatabase.open((workerData as { dataDir: string }).dataDir);
  const store = new SqliteAuditStore(sql);
  port.on('message', (request: WriterRequest) => {
    const run = async () => {
      if (request.op === 'append') return store.appendChained(request.entries, linkRecord);
      await store.addCheckpoint(request.checkpoint);
      return undefined;
    };
    run().then(
      (result) => port.postMessage({ id: request.id, ok: true, result } satisfies WriterResponse),
      (error: unknown) => port.postMessage({ id: request.id, ok: false, error: (error as Error).message } satisfies WriterResponse),
    );
  });
}
