// The PostgreSQL storage against embedded SQLite on one node, and how fast a change reaches
// another node. Standalone (not a `make bench` module yet):
//
//   npm run build && node bench/storage-postgres.ts
//
// A throwaway PostgreSQL cluster from Debian's packages, switched to durable settings (fsync,
// synchronous_commit, full_page_writes on) so its commits cost what SQLite's FULL sync does.
// Numbers on a shared machine are noisy: compare the two stores within one run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { AuditLog } from '../dist/audit/index.js';
import { silentLogger } from '../dist/log/index.js';
import { openStorage, type Storage } from '../dist/storage/index.js';
import { PostgresStorage } from '../dist/storage/postgres/index.js';
import { KeyRing } from '../dist/tokens/index.js';
import { startPostgresCluster } from '../test/helpers/postgres-cluster.ts';

const quantile = (sorted: number[], q: number) => (sorted[Math.floor(q * (sorted.length - 1))] ?? Number.NaN).toFixed(2);

async function auditPath(label: string, storage: Storage, writers: number, perWriter: number): Promise<void> {
  const log = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
    checkpointEvery: 1000,
    checkpointIntervalMs: 300_000,
  });
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) {
        const t = performance.now();
        await log.append('call.intent', { requestId: `${w}-${i}`, actor: { sub: 'alice' } }, { durable: true });
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await log.close();
  latencies.sort((a, b) => a - b);
  console.log(
    `| ${label} | ${writers} | ${writers * perWriter} | ${Math.round((writers * perWriter) / seconds)} | ${quantile(latencies, 0.5)} | ${quantile(latencies, 0.99)} |`,
  );
}

const cluster = await startPostgresCluster({ install: true });
try {
  const admin = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: 'postgres' });
  await admin.connect();
  for (const setting of ['fsync', 'synchronous_commit', 'full_page_writes']) await admin.query(`ALTER SYSTEM SET ${setting} = on`);
  await admin.query('SELECT pg_reload_conf()');
  await admin.query('CREATE DATABASE bench_storage');
  await admin.end();
  const url = `postgres://${cluster.user}:${encodeURIComponent(cluster.password)}@${cluster.host}:${cluster.port}/bench_storage`;

  console.log('Durable audit appends through AuditLog (one node)\n');
  console.log('| store | concurrent writers | records | records/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|');
  for (const writers of [1, 32]) {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-bench-storage-'));
    const sqlite = await openStorage({ baseDir: dir, dataDir: dir }, dir, { asyncAuditSync: true });
    await auditPath('SQLite', sqlite, writers, writers === 1 ? 400 : 50);
    await sqlite.close();
    const postgres = await openStorage({ baseDir: dir, dataDir: dir, storage: { postgres: { url, poolSize: 10 } } }, dir, {});
    await auditPath('PostgreSQL', postgres, writers, writers === 1 ? 400 : 50);
    await postgres.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const config = { connectionString: url };
  const [a, b] = [await PostgresStorage.open(config), await PostgresStorage.open(config)];
  const delays: number[] = [];
  for (let i = 0; i < 200; i++) {
    await a.revocations.add({ kind: 'token', value: `j${i}`, revokedAt: 1, expiresAt: Date.now() + 60_000, revokedBy: 'bench', reason: null });
    const t = performance.now();
    while (!b.externalChanges()) await new Promise((resolve) => setImmediate(resolve));
    delays.push(performance.now() - t);
  }
  delays.sort((x, y) => x - y);
  console.log(
    `\nA revocation committed on node A, seen by node B's externalChanges() after A's commit returned: p50 ${quantile(delays, 0.5)} ms, p99 ${quantile(delays, 0.99)} ms, max ${quantile(delays, 1)} ms (200 samples)`,
  );
  await Promise.all([a.close(), b.close()]);
} finally {
  await cluster.stop();
}
