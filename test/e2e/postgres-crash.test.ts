// Crash recovery and shutdown with the real `gatehouse` process: a lease survives a kill -9,
// the next start's janitor drops its role; a normal stop drops every role it created.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SqliteStorage } from '../../src/storage/index.js';
import { gatehouse, GatewayProcess } from '../helpers/cli-process.ts';
import { createCrmDatabase, type CrmDatabase } from '../helpers/postgres-fixture.ts';

let db: CrmDatabase;
let root: string;
let dataDir: string;
let configFile: string;
let env: NodeJS.ProcessEnv;
const processes: GatewayProcess[] = [];

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await probe();
  }
  return value;
}

async function start(): Promise<GatewayProcess> {
  const gw = await GatewayProcess.start(['--config', configFile, '--data-dir', dataDir, '--port', '0'], { env });
  processes.push(gw);
  return gw;
}

async function currentUser(gw: GatewayProcess): Promise<string> {
  const token = (await gatehouse(['token', 'issue', '--data-dir', dataDir, '--sub', 'alice', '--groups', 'support'], { env })).stdout.trim();
  const client = await gw.client(token);
  const result = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT current_user AS role' } })) as { content: { text: string }[] };
  await client.close();
  return (JSON.parse(result.content[0]?.text ?? '{}') as { rows: string[][] }).rows[0]?.[0] as string;
}

async function revokeReasons(): Promise<{ reason: string; resource: string }[]> {
  const storage = SqliteStorage.open(dataDir);
  try {
    return (await storage.audit.query({ kinds: ['lease.revoke'], limit: 100 })).map((r) => {
      const body = JSON.parse(r.body) as { reason: string; lease: { resource: string } };
      return { reason: body.reason, resource: body.lease.resource };
    });
  } finally {
    await storage.close();
  }
}

beforeAll(async () => {
  db = await createCrmDatabase(inject('postgres'), 'crash');
  root = mkdtempSync(path.join(tmpdir(), 'gh-crash-'));
  dataDir = path.join(root, 'data');
  env = { PATH: process.env.PATH, HOME: path.join(root, 'home') };
  configFile = path.join(root, 'gatehouse.yaml');
  writeFileSync(
    configFile,
    [
      'servers:',
      '  crm:',
      '    postgres:',
      `      host: ${db.info.host}`,
      `      port: ${db.info.port}`,
      `      database: ${db.database}`,
      `      admin: { user: ${db.adminUser}, password: vault:pg-admin }`,
      '      roles: { support: crm_support }',
      '      lease: { ttl: 10m }',
      'access:',
      '  - allow: { groups: [support], servers: [crm] }',
      '',
    ].join('\n'),
  );
  const put = await gatehouse(['vault', 'put', 'pg-admin', '--data-dir', dataDir], { stdin: db.adminPassword, env });
  expect(put.code, put.stderr).toBe(0);
});

afterAll(async () => {
  for (const p of processes) await p.stop().catch(() => undefined);
  await db?.close();
});

describe('gatehouse process with PostgreSQL leases', () => {
  it('kill -9 with an active lease: the role survives the crash, the next start drops it', async () => {
    const first = await start();
    const role = await currentUser(first);
    expect(role).toMatch(/^gh_alice_[a-z2-7]{8}$/);
    expect((await db.roles()).map((r) => r.rolname)).toEqual([role]);

    await first.kill9();
    expect((await first.exited).signal).toBe('SIGKILL');
    // Nobody revoked it: the role is still there, and its lease record is still open.
    expect((await db.roles()).map((r) => r.rolname)).toEqual([role]);

    const second = await start();
    const after = await until(
      () => db.roles(),
      (roles) => roles.length === 0,
    );
    expect(after).toEqual([]);
    const reasons = await until(revokeReasons, (r) => r.some((x) => x.resource === role));
    expect(reasons).toContainEqual({ reason: 'janitor: left behind by a previous run', resource: role });
    // The log line is written after the audit record, and reaches our pipe later still.
    const stderr = await until(
      async () => second.stderr,
      (text) => text.includes('janitor revoked a lease left behind'),
    );
    expect(stderr).toContain('janitor revoked a lease left behind');
    await second.stop();
  });

  it('a normal stop drops every role the process created', async () => {
    const gw = await start();
    const role = await currentUser(gw);
    expect((await db.roles()).map((r) => r.rolname)).toEqual([role]);
    const status = await gatehouse(['status', '--data-dir', dataDir], { env });
    expect(status.stdout).toContain(`crm: ready (postgres ${db.database}@127.0.0.1, 1 active leases)`);
    const exit = await gw.stop();
    expect(exit.code).toBe(0);
    expect(await db.roles()).toEqual([]);
    expect(await revokeReasons()).toContainEqual({ reason: 'shutdown', resource: role });
  });

  it('the admin credential never appears in the processes’ output or the data dir', async () => {
    const output = processes.map((p) => p.stdout + p.stderr).join('\n');
    expect(output.length).toBeGreaterThan(100);
    expect(output).not.toContain(db.adminPassword);
    for (const file of readdirSync(dataDir)) expect(readFileSync(path.join(dataDir, file)).includes(Buffer.from(db.adminPassword))).toBe(false);
    const audit = await gatehouse(['audit', 'verify', '--data-dir', dataDir], { env });
    expect(audit.code, audit.stderr).toBe(0);
  });
});
