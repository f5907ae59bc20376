// The JIT broker and the PostgreSQL connector's leased roles, against a real PostgreSQL:
// created with VALID UNTIL and IN ROLE, expired at TTL, dropped on revoke and at shutdown,
// left-behind leases cleaned by the janitor, expired leftovers swept.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AuditLog } from '../../src/audit/index.js';
import { validateConfig, type PostgresServerConfig } from '../../src/config/index.js';
import { PostgresConnector, scramSha256Verifier, type PostgresCredential } from '../../src/connectors/postgres/index.js';
import { silentLogger } from '../../src/log/index.js';
import { SqliteStorage } from '../../src/storage/index.js';
import { KeyRing } from '../../src/tokens/index.js';
import { Broker, type Lease } from '../../src/vault/index.js';
import { createCrmDatabase, crmPostgresSettings, type CrmDatabase } from '../helpers/postgres-fixture.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(100);
    value = await probe();
  }
  return value;
}

let db: CrmDatabase;
let storage: SqliteStorage;
let audit: AuditLog;

function serverConfig(ttl: string): PostgresServerConfig {
  const config = validateConfig(
    {
      servers: {
        crm: {
          postgres: crmPostgresSettings(db, { lease: { ttl }, query: { statementTimeout: '500ms' } }),
        },
      },
    },
    'test',
    tmpdir(),
    { env: {} },
  );
  return config.servers.crm as PostgresServerConfig;
}

async function broker(ttl: string): Promise<{ broker: Broker; connector: PostgresConnector }> {
  const b = new Broker({ store: storage.leases, audit, log: silentLogger() });
  const connector = await PostgresConnector.create('crm', serverConfig(ttl), {
    log: silentLogger(),
    broker: b,
    baseDir: tmpdir(),
    resolveSecret: async () => db.adminPassword,
  });
  return { broker: b, connector };
}

async function kinds(): Promise<string[]> {
  await audit.flush();
  return (await storage.audit.query({ limit: 10_000 })).map((r) => r.kind);
}

beforeAll(async () => {
  db = await createCrmDatabase(inject('postgres'), 'leases');
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-leases-'));
  storage = SqliteStorage.open(dir);
  audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
    checkpointEvery: 1000,
    checkpointIntervalMs: 300_000,
  });
});

afterAll(async () => {
  await audit?.close();
  await storage?.close();
  await db?.close();
});

const alice = { sub: 'alice@example.com', groups: ['support'] };

describe('leased PostgreSQL roles', () => {
  it('creates gh_<user>_<random> with VALID UNTIL and IN ROLE the mapped template, and drops it at TTL', async () => {
    const { broker: b, connector } = await broker('2s');
    const before = Date.now();
    const lease = await b.credentialFor<PostgresCredential>({ actor: alice, connector: 'crm', purpose: 'crm__query', requestId: 'r-1' });
    expect(lease.resource).toMatch(/^gh_alice_example_com_[a-z2-7]{8}$/);
    expect(lease.expiresAt - before).toBeGreaterThanOrEqual(2000);
    const [role] = await db.roles();
    expect(role?.rolname).toBe(lease.resource);
    expect(role?.member_of).toEqual(['crm_support']);
    expect(role?.comment).toMatch(new RegExp(`^gatehouse:lease:${lease.id} actor=alice@example.com expires=`));
    // VALID UNTIL is the lease's end by the server's clock (within clock-reading slack).
    expect(Math.abs((role?.rolvaliduntil as Date).getTime() - lease.expiresAt)).toBeLessThan(1000);
    expect(await db.tryLogin(lease.resource, lease.credential.password)).toBe('ok');
    // A warm lease is reused; a different template is a different lease.
    expect((await b.credentialFor({ actor: alice, connector: 'crm', purpose: 'crm__describe' })).id).toBe(lease.id);
    const sales = await b.credentialFor({ actor: { sub: 'alice@example.com', groups: ['sales'] }, connector: 'crm', purpose: 'x' });
    expect(sales.id).not.toBe(lease.id);

    const gone = await until(
      () => db.roles(),
      (roles) => roles.length === 0,
      6000,
    );
    expect(gone).toEqual([]);
    expect(await db.tryLogin(lease.resource, lease.credential.password)).toMatch(/password authentication failed/);
    expect((await storage.leases.get(lease.id))?.state).toBe('revoked');
    expect((await storage.leases.get(lease.id))?.revokeReason).toBe('expired');
    expect(await kinds()).toEqual(expect.arrayContaining(['lease.issue', 'lease.revoke']));
    await b.close();
    await connector.stop();
  });

  it('VALID UNTIL alone stops logins after expiry, and the sweep drops such leftovers', async () => {
    const { broker: b, connector } = await broker('5m');
    const password = 'leftover-password-0123456789abcdef';
    // A role as a crashed gateway would leave it: its lease ended 1.5 s from now, nobody dropped it.
    await connector.roles.createRole({
      name: 'gh_crashed_leftover1',
      verifier: scramSha256Verifier(password),
      expiresAt: Date.now() + 1500,
      templates: ['crm_reader'],
      connectionLimit: 2,
      leaseId: '00000000-0000-0000-0000-000000000001',
      actor: 'crashed',
    });
    expect(await db.tryLogin('gh_crashed_leftover1', password)).toBe('ok');
    await sleep(2000);
    expect((await db.roles()).map((r) => r.rolname)).toEqual(['gh_crashed_leftover1']);
    expect(await db.tryLogin('gh_crashed_leftover1', password)).toMatch(/password authentication failed for user "gh_crashed_leftover1"/);
    const report = await b.janitor();
    expect(report.swept).toBe(1);
    expect(await db.roles()).toEqual([]);
    await audit.flush();
    const sweep = (await storage.audit.query({ kinds: ['lease.sweep'], limit: 10 })).at(-1);
    expect(JSON.parse(sweep?.body ?? '{}')).toMatchObject({ removed: ['gh_crashed_leftover1'], target: { server: 'crm' } });
    await b.close();
    await connector.stop();
  });

  it('drops the role and ends its sessions when the user is revoked', async () => {
    const { broker: b, connector } = await broker('5m');
    const lease = (await b.credentialFor({ actor: alice, connector: 'crm', purpose: 'p' })) as Lease<PostgresCredential>;
    const session = new Client({ ...db.info, database: db.database, user: lease.resource, password: lease.credential.password });
    await session.connect();
    const ended = new Promise<string>((resolve) => session.on('error', (e) => resolve((e as { code?: string }).code ?? e.message)));
    expect((await session.query('SELECT current_user AS u')).rows[0]).toEqual({ u: lease.resource });
    expect(await b.revokeActor('alice@example.com')).toBe(1);
    expect(await db.roles()).toEqual([]);
    expect(await ended).toBe('57P01'); // admin_shutdown: terminated by pg_terminate_backend
    expect(await db.tryLogin(lease.resource, lease.credential.password)).toMatch(/password authentication failed/);
    await audit.flush();
    const revoke = (await storage.audit.query({ kinds: ['lease.revoke'], limit: 100 }))
      .map((r) => JSON.parse(r.body))
      .find((body) => body.lease.id === lease.id);
    expect(revoke).toMatchObject({ actor: { sub: 'alice@example.com' }, purpose: 'p', reason: 'actor revoked', lease: { resource: lease.resource } });
    expect(b.active()).toEqual([]);
    // A revoked user's next call mints afresh (identity decides whether there is one).
    expect(await b.revokeActor('alice@example.com')).toBe(0);
    await b.close();
    await connector.stop();
  });

  it('revokes every lease at shutdown and issues none after', async () => {
    const { broker: b, connector } = await broker('5m');
    await b.credentialFor({ actor: alice, connector: 'crm', purpose: 'p' });
    await b.credentialFor({ actor: { sub: 'bob', groups: ['sales'] }, connector: 'crm', purpose: 'p' });
    expect(await db.roles()).toHaveLength(2);
    expect(await b.close('shutdown')).toBe(2);
    expect(await db.roles()).toEqual([]);
    await expect(b.credentialFor({ actor: alice, connector: 'crm', purpose: 'p' })).rejects.toMatchObject({ code: 'broker.closed' });
    expect((await storage.leases.open()).filter((r) => r.connector === 'crm')).toEqual([]);
    await connector.stop();
  });

  it('the janitor of the next run revokes leases a previous run left open', async () => {
    // Run A mints and "crashes": it never revokes (its timer is far away and it is never closed).
    const a = await broker('5m');
    const lease = await a.broker.credentialFor({ actor: alice, connector: 'crm', purpose: 'crm__query' });
    expect((await storage.leases.get(lease.id))?.state).toBe('active');
    // Run B starts on the same data dir.
    const b = await broker('5m');
    const report = await b.broker.janitor();
    expect(report.cleaned).toBe(1);
    expect(await db.roles()).toEqual([]);
    const record = await storage.leases.get(lease.id);
    expect(record).toMatchObject({ state: 'revoked', revokeReason: 'janitor: left behind by a previous run' });
    expect(await b.broker.janitor()).toEqual({ cleaned: 0, failed: 0, swept: 0 });
    await b.broker.close();
    await b.connector.stop();
    await a.broker.close();
    await a.connector.stop();
  });

  it('binds each leased role to its actor in gatehouse.lease_actors, and unbinds it when the role goes', async () => {
    const { broker: b, connector } = await broker('5m');
    const lease = (await b.credentialFor({ actor: alice, connector: 'crm', purpose: 'p' })) as Lease<PostgresCredential>;
    expect(await db.sql('SELECT role, actor, lease_id FROM gatehouse.lease_actors')).toEqual([
      { role: lease.resource, actor: 'alice@example.com', lease_id: lease.id },
    ]);
    const session = new Client({ ...db.info, database: db.database, user: lease.resource, password: lease.credential.password });
    await session.connect();
    expect((await session.query("SELECT gatehouse.actor() AS a, current_setting('gatehouse.actor', true) AS s")).rows).toEqual([
      { a: 'alice@example.com', s: null },
    ]);
    await session.end();
    await b.revoke(lease.id, 'test');
    expect(await db.sql('SELECT count(*)::int AS n FROM gatehouse.lease_actors')).toEqual([{ n: 0 }]);
    // A row whose role is gone (a crash between the two) is swept by the janitor.
    await db.sql(
      "INSERT INTO gatehouse.lease_actors (role, actor, lease_id, expires_at) VALUES ('gh_gone_00000000', 'mallory', 'x', now() + interval '1 hour')",
    );
    await b.janitor();
    expect(await db.sql('SELECT count(*)::int AS n FROM gatehouse.lease_actors')).toEqual([{ n: 0 }]);
    await b.close();
    await connector.stop();
  });

  it('mints nothing while anyone but the admin could write the actor mapping', async () => {
    await db.sql('GRANT INSERT ON gatehouse.lease_actors TO crm_reader');
    try {
      const { broker: b, connector } = await broker('5m');
      await connector.start();
      expect(connector.status()).toMatchObject({ ready: false, detail: { error: expect.stringContaining('crm_reader has INSERT on gatehouse.lease_actors') } });
      await expect(b.credentialFor({ actor: alice, connector: 'crm', purpose: 'p' })).rejects.toMatchObject({ code: 'broker.mint_failed' });
      expect(await db.roles()).toEqual([]);
      expect(await db.sql('SELECT count(*)::int AS n FROM gatehouse.lease_actors')).toEqual([{ n: 0 }]);
      await b.close();
      await connector.stop();
    } finally {
      await db.sql('REVOKE INSERT ON gatehouse.lease_actors FROM crm_reader');
    }
    const { broker: b, connector } = await broker('5m');
    await connector.start();
    expect(connector.status().ready).toBe(true);
    expect((await b.credentialFor({ actor: alice, connector: 'crm', purpose: 'p' })).resource).toMatch(/^gh_alice_example_com_/);
    await b.close();
    await connector.stop();
  });

  it('refuses a TTL over 60 minutes and users with no mapped role', async () => {
    const { broker: b, connector } = await broker('5m');
    await expect(b.credentialFor({ actor: alice, connector: 'crm', purpose: 'p', ttlMs: 61 * 60_000 })).rejects.toMatchObject({ code: 'broker.ttl_invalid' });
    await expect(b.credentialFor({ actor: { sub: 'eve', groups: ['nobody'] }, connector: 'crm', purpose: 'p' })).rejects.toMatchObject({
      code: 'policy.denied',
      reason: 'postgres.no_role',
      message: 'No database role is mapped to your groups for "crm".',
    });
    expect(await db.roles()).toEqual([]);
    await b.close();
    await connector.stop();
  });
});
