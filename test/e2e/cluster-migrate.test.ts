import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auditRows, cleanup, cli, connectClient, ECHO_SERVER, NODE, startGateway, text, type GatewayProcess } from '../helpers/e2e.js';

/** `gatehouse migrate --to-postgres`: a real SQLite data dir with history, into a real PostgreSQL. */
describe('gatehouse migrate --to-postgres', () => {
  const info = inject('postgres');
  const masterKey = randomBytes(32).toString('base64');
  const env = { ...process.env, GATEHOUSE_MASTER_KEY: masterKey };
  const databases: string[] = [];
  let gw: GatewayProcess;

  const newDatabase = async () => {
    const database = `gh_migrate_${randomBytes(4).toString('hex')}`;
    const root = new pg.Client({ ...info, database: 'postgres' });
    await root.connect();
    await root.query(`CREATE DATABASE ${database}`);
    await root.end();
    databases.push(database);
    return { database, url: `postgres://${info.user}:${encodeURIComponent(info.password)}@${info.host}:${info.port}/${database}` };
  };
  const query = async <T extends pg.QueryResultRow>(database: string, sql: string) => {
    const client = new pg.Client({ ...info, database });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    gw = await startGateway({
      config: { servers: { echo: { command: NODE, args: [ECHO_SERVER] } }, access: [{ allow: { users: ['alice'], servers: ['echo'] } }] },
      env: { GATEHOUSE_MASTER_KEY: masterKey },
    });
    const client = await connectClient(gw, await gw.token('alice'));
    for (let i = 0; i < 5; i++) expect(text(await client.callTool({ name: 'echo', arguments: { text: `pre-migration-${i}` } }))).toBe(`pre-migration-${i}`);
    await client.close();
    expect((await cli(['users', 'add', 'bob', '--password-stdin', '--data-dir', gw.dataDir], { input: 'a long enough password 123\n', env })).code).toBe(0);
    expect((await cli(['vault', 'put', 'api-key', '--data-dir', gw.dataDir], { input: 'sk-canary-migrate-secret', env })).code).toBe(0);
    await gw.stop();
  }, 90_000);
  afterAll(async () => {
    await cleanup();
    const root = new pg.Client({ ...info, database: 'postgres' });
    await root.connect();
    for (const db of databases) await root.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await root.end();
  });

  it('copies everything with the audit chain intact, verifies it, and says what it did; the URL comes from stdin', async () => {
    const { database, url } = await newDatabase();
    const result = await cli(['migrate', '--to-postgres', '--url-stdin', '--data-dir', gw.dataDir, '--json'], { input: `${url}\n`, env });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      tables: { table: string; sqlite: number; postgres: number }[];
      audit: { ok: boolean; records: number };
      sqliteHead: string;
      postgresHead: string;
    };
    expect(report.ok).toBe(true);
    const sqliteRecords = auditRows(gw.dataDir);
    expect(report.audit).toMatchObject({ ok: true, records: sqliteRecords.length });
    expect(report.postgresHead).toBe(sqliteRecords.at(-1)?.hash);
    for (const t of report.tables) expect(t.postgres, t.table).toBe(t.sqlite);
    expect(report.tables.find((t) => t.table === 'users')?.postgres).toBe(1);
    expect(report.tables.find((t) => t.table === 'vault_secrets')?.postgres).toBe(1);
    expect(report.tables.find((t) => t.table === 'signing_keys')?.postgres).toBeGreaterThanOrEqual(2);
    // Byte-for-byte: every record's body and hashes as SQLite had them.
    const rows = await query<{ seq: number; body: string; hash: string; prev_hash: string }>(
      database,
      'SELECT seq, body, hash, prev_hash FROM audit_records ORDER BY seq',
    );
    expect(rows.map((r) => [Number(r.seq), r.body, r.hash, r.prev_hash])).toEqual(sqliteRecords.map((r) => [r.seq, r.rawBody, r.hash, r.prevHash]));
    // The vault entry stays sealed: the plaintext is nowhere in PostgreSQL or in the output.
    const vault = await query<{ ciphertext: Buffer }>(database, 'SELECT ciphertext FROM vault_secrets');
    expect(vault[0]?.ciphertext.toString('latin1')).not.toContain('sk-canary-migrate-secret');
    expect(result.stdout + result.stderr).not.toContain('sk-canary');
    expect(result.stdout + result.stderr).not.toContain(info.password);
  });

  it('human output lists the tables and the verification', async () => {
    const { url } = await newDatabase();
    const result = await cli(['migrate', '--to-postgres', '--url-stdin', '--data-dir', gw.dataDir], { input: url, env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/audit_records\s+\d+ rows/);
    expect(result.stdout).toMatch(/audit verify: intact, \d+ records/);
    expect(result.stdout).toContain('copied sealed');
    expect(result.stdout).not.toContain(info.password);
  });

  it('refuses a database that already holds data, exit 1, and changes nothing there', async () => {
    const { database, url } = await newDatabase();
    expect((await cli(['migrate', '--to-postgres', '--url-stdin', '--data-dir', gw.dataDir], { input: url, env })).code).toBe(0);
    const before = await query<{ n: number }>(database, 'SELECT count(*)::int AS n FROM audit_records');
    const again = await cli(['migrate', '--to-postgres', '--url-stdin', '--data-dir', gw.dataDir], { input: url, env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/the PostgreSQL database is not empty: settings \(\d+ rows\)/);
    expect(again.stderr).not.toContain(info.password);
    expect(await query<{ n: number }>(database, 'SELECT count(*)::int AS n FROM audit_records')).toEqual(before);
  });

  it('usage errors exit 2 and touch nothing: no --to-postgres, no target, empty stdin, no SQLite store', async () => {
    const noFlag = await cli(['migrate', '--data-dir', gw.dataDir], { env });
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toContain('--to-postgres');
    const noTarget = await cli(['migrate', '--to-postgres', '--data-dir', gw.dataDir], { env });
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain('set storage.postgres');
    const empty = await cli(['migrate', '--to-postgres', '--url-stdin', '--data-dir', gw.dataDir], { input: '', env });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('stdin is empty');
    const noStore = await cli(['migrate', '--to-postgres', '--url-stdin', '--data-dir', '/nonexistent-gh-dir'], { input: 'postgres://x@127.0.0.1/x', env });
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toContain('no SQLite store');
  });

  it('a password in the URL on argv is impossible: the command takes no URL argument', async () => {
    const { url } = await newDatabase();
    const result = await cli(['migrate', '--to-postgres', '--url', url, '--data-dir', gw.dataDir], { env });
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).not.toContain(info.password);
  });
});
