// Leased database roles across a cluster: a node that holds a live lease is killed with
// SIGKILL; once the lease has expired, the janitor of a surviving node drops its role and
// closes its lease row (one node does it, under a cluster-wide lock, while the others sweep
// at the same moment); until then no other node takes a live lease away, not even one whose
// owner looks dead from here (nodes on other hosts have pids that mean nothing locally).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Cluster, startCluster, statelessToolCall } from '../helpers/cluster.js';
import { sleep } from '../helpers/e2e.js';
import { createCrmDatabase, type CrmDatabase } from '../helpers/postgres-fixture.js';

const ADMIN_PASSWORD_ENV = 'GH_TEST_LEASE_ADMIN_PASSWORD';
const LEASE_TTL_MS = 6000;
const SWEEP_MS = 1000;

/** Runs `query` through nginx; resolves to the database role the statement ran as. */
async function currentRole(url: string, token: string): Promise<string> {
  const { status, body, message } = await statelessToolCall(url, token, 'query', { sql: 'SELECT current_user AS role' });
  if (status !== 200 || !message.result || message.result.isError) throw new Error(`query failed: HTTP ${status} ${body.slice(0, 300)}`);
  return (JSON.parse(message.result.content?.[0]?.text ?? '{}') as { rows: string[][] }).rows[0]?.[0] as string;
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(200);
    value = await probe();
  }
  return value;
}

interface LeaseRow {
  id: string;
  resource: string;
  state: string;
  owner_pid: number;
  owner_instance: string;
  revoke_reason: string | null;
  expires_at: string;
}

describe('leased roles of a node killed with SIGKILL', () => {
  let db: CrmDatabase;
  let cluster: Cluster;
  const leases = () =>
    cluster.sql<LeaseRow>('SELECT id, resource, state, owner_pid, owner_instance, revoke_reason, expires_at FROM broker_leases ORDER BY issued_at');
  const roleNames = async () => (await db.roles()).map((r) => r.rolname);

  beforeAll(async () => {
    db = await createCrmDatabase(inject('postgres'), 'clusterlease');
    process.env[ADMIN_PASSWORD_ENV] = db.adminPassword;
    cluster = await startCluster(
      inject('postgres'),
      {
        servers: {
          crm: {
            postgres: {
              host: db.info.host,
              port: db.info.port,
              database: db.database,
              admin: { user: db.adminUser, password: `\${${ADMIN_PASSWORD_ENV}}` },
              roles: { support: 'crm_support' },
              lease: { ttl: `${LEASE_TTL_MS}ms`, sweepInterval: `${SWEEP_MS}ms` },
              query: { statementTimeout: '2s' },
            },
          },
        },
        access: [{ allow: { groups: ['support'], servers: ['crm'] } }],
        rateLimits: { enabled: false },
      },
      { nodes: 3 },
    );
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop().catch(() => undefined);
    delete process.env[ADMIN_PASSWORD_ENV];
    await db?.close();
  });

  it('no other node takes a live lease away; after expiry one surviving janitor drops the role and closes the row; audit verify passes', async () => {
    const token = await cluster.token('alice', { groups: ['support'] });
    const role = await currentRole(cluster.mcpUrl, token);
    expect(role).toMatch(/^gh_alice_[a-z2-7]{8}$/);
    const [lease] = (await leases()).filter((l) => l.resource === role);
    expect(lease).toMatchObject({ state: 'active', resource: role });
    const holder = cluster.nodes.find((n) => n.process?.child.pid === lease?.owner_pid);
    expect(holder, 'the lease names the pid of one of the nodes').toBeDefined();

    // The holder is alive, but its pid is made one that does not exist here: what every other
    // node sees when the holder runs on another host. Three sweeps later the role still works.
    await cluster.sql('UPDATE broker_leases SET owner_pid = $1 WHERE id = $2', [4_000_000 + (process.pid % 100_000), lease?.id]);
    await sleep(3 * SWEEP_MS + 500);
    expect(await roleNames()).toEqual([role]);
    expect((await leases()).find((l) => l.id === lease?.id)?.state).toBe('active');

    const killedAt = Date.now();
    holder?.process?.child.kill('SIGKILL');
    expect((await holder?.process?.exit)?.signal).toBe('SIGKILL');
    // Nobody revoked it at the kill: the role and its open row are still there.
    expect(await roleNames()).toEqual([role]);

    // The lease expires by time; the surviving nodes sweep every second.
    const after = await until(roleNames, (names) => names.length === 0, LEASE_TTL_MS + 10 * SWEEP_MS + 10_000);
    expect(after).toEqual([]);
    const closed = await until(
      async () => (await leases()).find((l) => l.id === lease?.id),
      (l) => l?.state === 'revoked',
      10_000,
    );
    expect(closed).toMatchObject({ state: 'revoked', revoke_reason: 'janitor: expired, left behind by another node or run' });
    // Not before the lease's end: a live credential is never taken away early.
    expect(Number(closed?.expires_at)).toBeGreaterThan(killedAt);
    expect(await db.sql('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).toEqual([]);
    expect(await db.sql('SELECT role FROM gatehouse.lease_actors WHERE role = $1', [role])).toEqual([]);

    // Two surviving nodes swept concurrently, every second: the lease was closed exactly once.
    await sleep(3 * SWEEP_MS);
    const revokes = await cluster.sql<{ body: string }>(`SELECT body FROM audit_records WHERE kind = 'lease.revoke'`);
    const forLease = revokes.map((r) => JSON.parse(r.body) as { lease: { id: string }; reason: string }).filter((b) => b.lease.id === lease?.id);
    expect(forLease.map((b) => b.reason)).toEqual(['janitor: expired, left behind by another node or run']);
    expect((await leases()).filter((l) => l.state === 'active')).toEqual([]);

    // The survivors still serve: a new lease, a new role.
    const next = await currentRole(cluster.mcpUrl, token);
    expect(next).toMatch(/^gh_alice_[a-z2-7]{8}$/);
    expect(next).not.toBe(role);

    const verify = await cluster.cli(['audit', 'verify', '--json'], { node: cluster.nodes.findIndex((n) => n !== holder) });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
