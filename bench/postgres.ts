// PostgreSQL leases: what a brokered, guarded, context-carrying query costs next to a direct
// `pg` query on the same table, and what minting a just-in-time role costs.
//
//   node bench/postgres.ts            (standalone; needs `make build`)
//   import { runPostgresBench } from './postgres.ts'   (bench/run.ts)
//
// Targets: a warm lease adds <= 0.3 ms p50 to a query; a lease mint takes <= 15 ms.
// Benchmarks only report: a missed target is printed, never asserted.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Pool } from 'pg';
import { AuditLog } from '../dist/audit/index.js';
import { validateConfig, type PostgresServerConfig } from '../dist/config/index.js';
import { ACTOR_SCHEMA_SQL, actorGrantSql, PostgresConnector } from '../dist/connectors/postgres/index.js';
import { silentLogger } from '../dist/log/index.js';
import type { CallContext } from '../dist/pipeline/index.js';
import { openStorage } from '../dist/storage/index.js';
import { KeyRing, localPrincipal } from '../dist/tokens/index.js';
import { Broker } from '../dist/vault/index.js';
import { startPostgresCluster, type PostgresCluster } from '../test/helpers/postgres-cluster.ts';

export interface PostgresBenchResult {
  title: string;
  rows: Record<string, string | number>[];
  notes: string[];
  skipped?: string;
}

const TITLE = 'PostgreSQL: leased query vs direct pg query; JIT role mint';
const DEFAULT_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PER_ROUND = Number(process.env.BENCH_PG_CALLS ?? 400);
const MINTS = Number(process.env.BENCH_PG_MINTS ?? 40);
const SQL = 'SELECT id, name, price FROM items WHERE id = $1';

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const ms = (n: number) => Number(n.toFixed(3));

function context(sub: string, groups: string[], args: Record<string, unknown>, n: number): CallContext {
  const now = Date.now();
  return {
    requestId: `bench-${n}`,
    rpcId: n,
    principal: localPrincipal({ sub, groups, clientId: 'bench', jti: 'bench', issuedAt: now, expiresAt: now + 300_000, claims: {} }),
    origin: { sessionId: 'bench', ip: '127.0.0.1', clientName: 'bench', protocolVersion: '2025-11-25' },
    op: { method: 'tools/call', action: 'call', kind: 'tool', server: 'bench', name: 'query', id: 'bench__query', args },
    params: { name: 'query', arguments: args },
    signal: new AbortController().signal,
    startedAt: now,
    progress: undefined,
    decision: { effect: 'allow', policy: 'bench' },
    intentSeq: undefined,
    notes: {},
    control: {},
  } as CallContext;
}

export async function runPostgresBench(options: { log?: (line: string) => void; rounds?: number } = {}): Promise<PostgresBenchResult> {
  const ROUNDS = Math.max(1, Math.round(options.rounds ?? DEFAULT_ROUNDS));
  const log = options.log ?? ((line: string) => process.stderr.write(`  ${line}\n`));
  let cluster: PostgresCluster;
  try {
    cluster = await startPostgresCluster({ install: true, log });
  } catch (error) {
    const reason = `no PostgreSQL could be started: ${(error as Error).message}`;
    return { title: TITLE, rows: [{ measurement: 'skipped', detail: reason }], notes: [], skipped: reason };
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-bench-pg-'));
  const adminPassword = randomBytes(16).toString('hex');
  const directPassword = randomBytes(16).toString('hex');
  const root = new Client({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: 'postgres' });
  await root.connect();
  const cleanup: (() => Promise<unknown>)[] = [
    async () => root.end(),
    async () => cluster.stop(),
    async () => rmSync(dataDir, { recursive: true, force: true }),
  ];
  try {
    await root.query('CREATE DATABASE bench');
    await root.query('CREATE ROLE bench_reader NOLOGIN');
    await root.query(`CREATE ROLE bench_admin LOGIN CREATEROLE PASSWORD '${adminPassword}'`);
    await root.query('GRANT pg_signal_backend TO bench_admin');
    await root.query('GRANT bench_reader TO bench_admin WITH ADMIN OPTION');
    await root.query(`CREATE ROLE bench_direct LOGIN PASSWORD '${directPassword}' IN ROLE bench_reader`);
    const setup = new Client({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: 'bench' });
    await setup.connect();
    await setup.query('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL)');
    await setup.query("INSERT INTO items SELECT g, 'item ' || g, (g % 1000) / 10.0 FROM generate_series(1, 10000) g");
    await setup.query('GRANT SELECT ON items TO bench_reader');
    await setup.query(ACTOR_SCHEMA_SQL);
    await setup.query(actorGrantSql('bench_admin'));
    await setup.query('ANALYZE items');
    await setup.end();

    const storage = await openStorage({ baseDir: dataDir, dataDir }, dataDir, { asyncAuditSync: true });
    const audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 300_000,
    });
    cleanup.unshift(
      async () => storage.close(),
      async () => audit.close(),
    );
    const broker = new Broker({ store: storage.leases, audit, log: silentLogger() });
    const config = validateConfig(
      {
        servers: {
          bench: {
            postgres: {
              host: cluster.host,
              port: cluster.port,
              database: 'bench',
              admin: { user: 'bench_admin', password: 'vault:bench-admin' },
              roles: { bench: 'bench_reader' },
              lease: { ttl: '10m', poolSize: 1 },
            },
          },
        },
      },
      'bench',
      dataDir,
      { env: {} },
    );
    const connector = await PostgresConnector.create('bench', config.servers.bench as PostgresServerConfig, {
      log: silentLogger(),
      broker,
      baseDir: dataDir,
      resolveSecret: async () => adminPassword,
    });
    cleanup.unshift(
      async () => connector.stop(),
      async () => broker.close('bench done'),
    );
    await connector.start();

    const direct = new Pool({ host: cluster.host, port: cluster.port, database: 'bench', user: 'bench_direct', password: directPassword, max: 1 });
    cleanup.unshift(async () => direct.end());
    let n = 0;
    const id = () => (n % 10000) + 1;
    const directCall = async () => {
      await direct.query(SQL, [id()]);
    };
    const leasedCall = async () => {
      const ctx = context('alice', ['bench'], { sql: SQL, params: [id()] }, n);
      broker.attach(ctx, { actor: { sub: 'alice', groups: ['bench'] }, connector: 'bench', purpose: 'bench__query', requestId: ctx.requestId });
      const result = (await connector.execute(ctx)) as { isError?: boolean; content: { text: string }[] };
      if (result.isError) throw new Error(result.content[0]?.text);
    };
    // The same path with a query text never seen before (the guard's parse is not cached).
    const leasedColdCall = async () => {
      const ctx = context('alice', ['bench'], { sql: `${SQL} /* ${n} */`, params: [id()] }, n);
      broker.attach(ctx, { actor: { sub: 'alice', groups: ['bench'] }, connector: 'bench', purpose: 'bench__query', requestId: ctx.requestId });
      const result = (await connector.execute(ctx)) as { isError?: boolean; content: { text: string }[] };
      if (result.isError) throw new Error(result.content[0]?.text);
    };
    // Warm both paths: connections open, statements planned, the lease minted.
    for (let i = 0; i < 200; i++, n++) {
      await directCall();
      await leasedCall();
    }
    log(`postgres bench: ${ROUNDS} rounds × ${PER_ROUND} calls per path, interleaved`);
    const directSamples: number[] = [];
    const leasedSamples: number[] = [];
    const coldSamples: number[] = [];
    const paths: [() => Promise<void>, number[]][] = [
      [directCall, directSamples],
      [leasedCall, leasedSamples],
      [leasedColdCall, coldSamples],
    ];
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order every round so drift (load, caches) spreads over every path.
      const order = [...paths.slice(round % paths.length), ...paths.slice(0, round % paths.length)];
      for (const [fn, into] of order) {
        for (let i = 0; i < PER_ROUND; i++, n++) {
          const t0 = performance.now();
          await fn();
          into.push(performance.now() - t0);
        }
      }
    }
    await audit.flush();

    log(`postgres bench: minting ${MINTS} roles`);
    const mintSamples: number[] = [];
    const firstCallSamples: number[] = [];
    const revokeSamples: number[] = [];
    for (let i = 0; i < MINTS; i++) {
      const sub = `user${i}`;
      const t0 = performance.now();
      const lease = await broker.credentialFor({ actor: { sub, groups: ['bench'] }, connector: 'bench', purpose: 'bench mint' });
      mintSamples.push(performance.now() - t0);
      // A user's first call: the lease is warm in the broker, its pool has no connection yet.
      const ctx = context(sub, ['bench'], { sql: SQL, params: [i + 1] }, n++);
      broker.attach(ctx, { actor: { sub, groups: ['bench'] }, connector: 'bench', purpose: 'bench__query' });
      const t1 = performance.now();
      await connector.execute(ctx);
      firstCallSamples.push(performance.now() - t1 + (mintSamples.at(-1) as number));
      const t2 = performance.now();
      await broker.revoke(lease.id, 'bench');
      revokeSamples.push(performance.now() - t2);
    }

    const d50 = percentile(directSamples, 50);
    const l50 = percentile(leasedSamples, 50);
    const m50 = percentile(mintSamples, 50);
    /** A measured row: p50 and p99 of its samples, with a target and verdict where there is one. */
    const sampled = (measurement: string, samples: number[], target = '', verdict = ''): Record<string, string | number> => ({
      measurement,
      p50_ms: ms(percentile(samples, 50)),
      p99_ms: ms(percentile(samples, 99)),
      samples: samples.length,
      target,
      verdict,
    });
    const rows: Record<string, string | number>[] = [
      sampled('direct pg query (baseline)', directSamples),
      sampled('leased query (warm lease, guard + context + row limit + audit)', leasedSamples),
      sampled('leased query, SQL text not seen before (guard parses it)', coldSamples),
      {
        measurement: 'lease overhead (leased - direct, p50)',
        p50_ms: ms(l50 - d50),
        p99_ms: '',
        samples: '',
        target: '<= 0.3 ms',
        verdict: l50 - d50 <= 0.3 ? 'PASS' : 'MISS',
      },
      { measurement: 'leased / direct (p50)', p50_ms: `${(l50 / d50).toFixed(2)}x`, p99_ms: '', samples: '', target: '', verdict: '' },
      sampled('lease mint (record, CREATE ROLE, audit)', mintSamples, '<= 15 ms', m50 <= 15 ? 'PASS' : 'MISS'),
      sampled('first call of a user (mint + login + query)', firstCallSamples),
      sampled('lease revoke (terminate + DROP ROLE + audit)', revokeSamples),
    ];
    const notes = [
      `Same table, same statement (${SQL}), same server, one connection per path, calls in series; ${ROUNDS} interleaved rounds.`,
      'The leased path runs the real connector: the SQL guard (libpg-query; verdicts cached by exact text), BEGIN READ ONLY + set_config context (application_name, gatehouse.actor/purpose/request_id, statement_timeout) + the catalog check of every function, operator and type the query names + the row-limited statement pipelined in one round trip, COMMIT and the session reset after the answer (with one connection, the next call waits for them), and a lease.use audit record.',
      'Mint = durable lease record (SQLite, fsync) + CREATE ROLE … VALID UNTIL … IN ROLE with a SCRAM verifier and its COMMENT in one round trip; the lease.issue audit record rides the next group commit.',
    ];
    return { title: TITLE, rows, notes };
  } finally {
    for (const fn of cleanup) await fn().catch(() => undefined);
  }
}

function printTable(result: PostgresBenchResult): void {
  const columns = [...new Set(result.rows.flatMap((r) => Object.keys(r)))];
  const cells = [columns, ...result.rows.map((r) => columns.map((c) => String(r[c] ?? '')))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  process.stdout.write(`\n${result.title}\n`);
  for (const row of cells)
    process.stdout.write(
      `  ${row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  for (const note of result.notes) process.stdout.write(`  · ${note}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runPostgresBench().then(printTable, (error: unknown) => {
    process.stderr.write(`postgres bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
