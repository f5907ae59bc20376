// What only the PostgreSQL storage has: migrations under an advisory lock for nodes starting
// together, the LISTEN connection and its recovery, errors at open, the factory's config path.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GENESIS_HASH, linkRecord } from '../../audit/chain.js';
import { verifyAuditLog } from '../../audit/verify-log.js';
import { changeSeen, createDatabase, postgresInfo } from '../../../test/helpers/storage-backends.js';
import { validateConfig } from '../../config/index.js';
import { openStorage } from '../open-storage.js';
import type { Storage, StoredAuditRecord } from '../ports/index.js';
import { PostgresDatabase, PostgresStorage, POSTGRES_MIGRATIONS, StorageUnavailableError } from '../postgres/index.js';

const EXPECTED_TABLES = [
  'approvals',
  'audit_checkpoints',
  'audit_head',
  'audit_records',
  'broker_leases',
  'connection_requests',
  'connections',
  'federated_identities',
  'mcp_sessions',
  'oauth_artifacts',
  'oauth_consents',
  // The cluster's shared DPoP replay cache and rate-limit counters (src/cluster/).
  'rate_limits',
  'replay_cache',
  'revocations',
  'schema_migrations',
  'settings',
  'signing_keys',
  'storage_probe',
  'tool_pin_servers',
  'tool_pins',
  'users',
  'vault_secrets',
];

async function sql<R extends pg.QueryResultRow>(config: pg.ClientConfig, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

describe('PostgreSQL storage only', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function database() {
    const db = await createDatabase('pgonly');
    cleanups.push(() => db.drop());
    return db;
  }
  function track<T extends { close(): Promise<void> }>(opened: T): T {
    cleanups.push(() => opened.close());
    return opened;
  }

  it('eight nodes starting together against an empty database: all open, one schema, each migration applied once', async () => {
    const db = await database();
    const nodes = await Promise.all(Array.from({ length: 8 }, () => PostgresStorage.open({ ...db.config, max: 2 }).then(track)));
    const migrations = await sql<{ id: string; n: number }>(db.config, 'SELECT id, count(*)::int AS n FROM schema_migrations GROUP BY id ORDER BY id');
    expect(migrations).toEqual(POSTGRES_MIGRATIONS.map((m) => ({ id: m.id, n: 1 })));
    const tables = await sql<{ table_name: string }>(
      db.config,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(EXPECTED_TABLES);
    await Promise.all(nodes.map((n) => n.probeWritable()));
    // Every connection names its node and cannot sit in a transaction (holding the chain lock) for long.
    const session = await nodes[0]?.db.row<{ node: string; idle: string }>(
      "SELECT current_setting('gatehouse.node') AS node, current_setting('idle_in_transaction_session_timeout') AS idle",
    );
    expect(session).toEqual({ node: nodes[0]?.db.nodeId, idle: '15s' });
    // Opening again later applies nothing.
    const again = track(await PostgresDatabase.open({ ...db.config, max: 1 }));
    expect(await again.migrate()).toEqual([]);
  });

  it('a failing migration is rolled back and named, the earlier ones stay, and the lock is free for the next starter', async () => {
    const db = await database();
    const good = { id: '0001-good', sql: 'CREATE TABLE good (x INT)' };
    const bad = { id: '0002-bad', sql: 'CREATE TABLE half (x INT); SELECT no_such_function()' };
    await expect(PostgresDatabase.open(db.config, [good, bad])).rejects.toThrow(
      /^storage migration 0002-bad failed: function no_such_function\(\) does not exist/,
    );
    expect(await sql(db.config, 'SELECT id FROM schema_migrations')).toEqual([{ id: '0001-good' }]);
    expect(await sql(db.config, "SELECT to_regclass('half') AS t")).toEqual([{ t: null }]);
    const fixed = track(await PostgresDatabase.open(db.config, [good, { id: '0002-bad', sql: 'CREATE TABLE half (x INT)' }]));
    expect(await fixed.rows('SELECT id FROM schema_migrations ORDER BY id')).toEqual([{ id: '0001-good' }, { id: '0002-bad' }]);
  });

  it('the change listener losing its connection reports "changed" until it is back and once after, then hears other nodes again', async () => {
    const db = await database();
    const nodeA = track(await PostgresStorage.open(db.config));
    const nodeB = track(await PostgresStorage.open(db.config, { listenerBackoffMs: 20 }));
    expect(nodeB.externalChanges()).toBe(false);
    const killed = await sql<{ ok: boolean }>(
      db.config,
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN gatehouse_changes'",
    );
    // Both nodes' listeners were cut.
    expect(killed).toEqual([{ ok: true }, { ok: true }]);
    const until = Date.now() + 5000;
    let sawDown = false;
    while (!nodeB.listening || !sawDown) {
      if (!nodeB.listening) {
        sawDown = true;
        expect(nodeB.externalChanges()).toBe(true);
      }
      if (Date.now() > until) throw new Error('the listener did not come back within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Back: what was missed while down is reported once.
    expect(nodeB.externalChanges()).toBe(true);
    expect(nodeB.externalChanges()).toBe(false);
    await nodeA.revocations.add({ kind: 'user', value: 'mallory', revokedAt: 1, expiresAt: Date.now() + 60_000, revokedBy: 'os:test', reason: null });
    expect(await changeSeen(nodeB)).toBe(true);
  });

  it('counts writes by anything that is not Gatehouse (psql, a migration tool) as changes, settings and connections included', async () => {
    const db = await database();
    const node = track(await PostgresStorage.open(db.config));
    node.externalChanges();
    await sql(db.config, "INSERT INTO settings (key, value) VALUES ('public.url', 'https://x')");
    expect(await changeSeen(node)).toBe(true);
    await sql(db.config, "INSERT INTO connections (user_name, server, provider, created_at) VALUES ('a', 's', 'p', 1)");
    expect(await changeSeen(node)).toBe(true);
    await sql(db.config, 'TRUNCATE revocations');
    expect(await changeSeen(node)).toBe(true);
  });

  it('bookkeeping writes nobody caches do not make other nodes reload; the changes that matter do', async () => {
    const db = await database();
    const [nodeA, nodeB] = [track(await PostgresStorage.open(db.config)), track(await PostgresStorage.open(db.config))];
    await nodeA.users.create({ name: 'alice', source: 'local', groups: [], passwordHash: 'h' }, 1);
    const sealed = { kekId: 'k', wrappedKey: Buffer.from([1]), iv: Buffer.alloc(12), ciphertext: Buffer.from([2]), tag: Buffer.alloc(16) };
    await nodeA.vault.put('s', sealed, 1);
    await nodeA.connections.connect(
      { user: 'alice', server: 'x', provider: 'p', scopes: [], refreshToken: sealed, accessToken: null, accessExpiresAt: null },
      1,
    );
    expect(await changeSeen(nodeB)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    nodeB.externalChanges();
    // A sign-in attempt counted, a secret's "last used", a refresh lock taken and given back.
    await nodeA.users.reserveAttempt('alice', { threshold: 5, baseDelayMs: 1000, maxDelayMs: 5000 }, 10);
    await nodeA.users.update('alice', { lastLoginAt: 11, failedAttempts: 0 }, 11);
    await nodeA.vault.markUsed('s', 'servers.x.env.K', 12);
    expect(await nodeA.connections.tryLock('alice', 'x', 'owner', 100, 13)).toBe(true);
    await nodeA.connections.unlock('alice', 'x', 'owner');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(nodeB.externalChanges()).toBe(false);
    // A user disabled, a secret rotated, a refresh committed: each is announced.
    for (const [what, write] of [
      ['user disabled', () => nodeA.users.update('alice', { disabledAt: 20 }, 20)],
      ['secret rotated', () => nodeA.vault.put('s', sealed, 21)],
      [
        'refresh committed',
        async () => {
          await nodeA.connections.tryLock('alice', 'x', 'owner', 100, 22);
          await nodeA.connections.commitRefresh('alice', 'x', 'owner', { refreshToken: sealed, accessToken: sealed, accessExpiresAt: 99, scopes: [] }, 22);
        },
      ],
    ] as const) {
      await write();
      expect(await changeSeen(nodeB), what).toBe(true);
    }
  });

  it('fails to open with storage.unavailable naming host, port and database but never the password', async () => {
    const db = await database();
    const info = postgresInfo();
    const wrong = 'Wr0ng-canary-password-88';
    const error = await PostgresStorage.open({ ...db.config, password: wrong }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(error).toMatchObject({ code: 'storage.unavailable', status: 503 });
    expect((error as Error).message).toBe(
      `cannot open the PostgreSQL storage at ${info.host}:${info.port}/${db.name}: password authentication failed for user "${info.user}"`,
    );
    expect((error as Error).message).not.toContain(wrong);
    const url = `postgres://${info.user}:${wrong}@127.0.0.1:1/${db.name}`;
    const refused = await PostgresStorage.open({ connectionString: url }).catch((e: unknown) => e);
    expect((refused as StorageUnavailableError).code).toBe('storage.unavailable');
    expect((refused as Error).message).toMatch(new RegExp(`^cannot open the PostgreSQL storage at 127\\.0\\.0\\.1:1/${db.name}: .*ECONNREFUSED`));
    expect((refused as Error).message).not.toContain(wrong);
    // Nothing was created by the failed opens.
    expect(await sql(db.config, "SELECT to_regclass('schema_migrations') AS t")).toEqual([{ t: null }]);
  });

  it('openStorage(config) opens PostgreSQL from ${VAR} or file:PATH, and SQLite in the data dir without storage.postgres', async () => {
    const db = await database();
    const info = postgresInfo();
    const url = `postgres://${info.user}:${encodeURIComponent(info.password)}@${info.host}:${info.port}/${db.name}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-open-storage-'));
    const env = { GH_TEST_DB_URL: url };
    const fromEnv = validateConfig({ storage: { postgres: { url: '${GH_TEST_DB_URL}', poolSize: 3 } } }, 'test', dir, { env });
    const viaEnv: Storage = track(await openStorage(fromEnv, fromEnv.dataDir, { env }));
    expect(viaEnv.kind).toBe('postgres');
    await viaEnv.settings.set('k', 'from-env');
    writeFileSync(path.join(dir, 'db-url'), `${url}\n`, { mode: 0o600 });
    const fromFile = validateConfig({ storage: { postgres: { url: 'file:db-url' } } }, 'test', dir, { env: {} });
    const viaFile = track(await openStorage(fromFile, fromFile.dataDir, { env: {} }));
    expect(await viaFile.settings.get('k')).toBe('from-env');
    const sqlite = track(await openStorage(validateConfig({}, 'test', dir, { env: {} })));
    expect(sqlite.kind).toBe('sqlite');
    expect(await sqlite.settings.get('k')).toBeUndefined();
  });

  it('group-commits concurrent appends of one node: fewer transactions than callers, each caller its own records', async () => {
    const db = await database();
    const node = track(await PostgresStorage.open(db.config));
    const transactions = vi.spyOn(node.db.pool, 'connect');
    const appended = await Promise.all(
      Array.from({ length: 40 }, (_, i) => node.audit.appendChained([{ ts: i, kind: 'call.intent', body: `{"i":${i}}` }], linkRecord)),
    );
    expect(appended.map((records) => JSON.parse(records[0]?.body ?? '{}').i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(transactions.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(transactions.mock.calls.length).toBeLessThan(5);
    expect(await node.audit.count()).toBe(40);
  });

  it('a batch rejected by the server (a value PostgreSQL cannot store) fails only its own caller; the others commit', async () => {
    const db = await database();
    const node = track(await PostgresStorage.open(db.config));
    // A raw U+0000 is not valid in PostgreSQL text (canonical JSON would have escaped it).
    const results = await Promise.allSettled([
      node.audit.appendChained([{ ts: 1, kind: 'call.intent', body: '{"ok":1}' }], linkRecord),
      node.audit.appendChained([{ ts: 2, kind: 'bad\u0000kind', body: '{"bad":1}' }], linkRecord),
      node.audit.appendChained([{ ts: 3, kind: 'call.intent', body: '{"ok":3}' }], linkRecord),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: '22021' });
    expect((await node.audit.scan(1, 10)).map((r) => [r.seq, r.body])).toEqual([
      [1, '{"ok":1}'],
      [2, '{"ok":3}'],
    ]);
  });

  it('recovers by itself when the server drops every connection (a restart, a failover): the next operations succeed', async () => {
    const db = await database();
    const node = track(await PostgresStorage.open(db.config, { listenerBackoffMs: 20 }));
    await Promise.all([node.settings.set('a', '1'), node.audit.appendChained([{ ts: 1, kind: 'k', body: '{}' }], linkRecord)]);
    const killed = await sql<{ n: number }>(
      db.config,
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    expect(killed[0]?.n).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await node.settings.set('a', '2');
    expect(await node.settings.get('a')).toBe('2');
    const [record] = await node.audit.appendChained([{ ts: 2, kind: 'k', body: '{}' }], linkRecord);
    expect(record?.seq).toBe(2);
    await waitUntil(() => node.listening);
  });

  it('appendVerbatim copies a chain made elsewhere with its hashes intact, only where it continues the head', async () => {
    const db = await database();
    const node = track(await PostgresStorage.open(db.config));
    const source: StoredAuditRecord[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 5; seq++) {
      const record = linkRecord(prev, seq, { ts: seq, kind: 'call.intent', body: `{"actor":{"sub":"u${seq}"}}` });
      source.push(record);
      prev = record.hash;
    }
    // Not at the head (starts at #2), and broken in the middle: refused, nothing written.
    await expect(node.audit.appendVerbatim(source.slice(1))).rejects.toThrow(/^record #2 does not continue the chain at #0/);
    await expect(node.audit.appendVerbatim([source[0], source[2]] as StoredAuditRecord[])).rejects.toThrow(/^record #3 does not continue the chain at #1/);
    expect(await node.audit.count()).toBe(0);
    await node.audit.appendVerbatim(source.slice(0, 3));
    await node.audit.appendVerbatim(source.slice(3));
    expect(await node.audit.scan(1, 10)).toEqual(source);
    expect((await node.audit.query({ sub: 'u4' })).map((r) => r.seq)).toEqual([4]);
    expect(await verifyAuditLog(node.audit, node.signingKeys)).toMatchObject({ ok: true, records: 5, headHash: source[4]?.hash });
    // And the live chain goes on from the copied head.
    const [next] = await node.audit.appendChained([{ ts: 6, kind: 'call.intent', body: '{}' }], linkRecord);
    expect(next).toMatchObject({ seq: 6, prevHash: source[4]?.hash });
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
