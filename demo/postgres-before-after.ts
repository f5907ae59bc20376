// PostgreSQL before and after Gatehouse, as a `make demo` step:
//   before: an MCP server with the database's admin connection string in its args;
//   after:  Gatehouse, where the agent queries through a just-in-time role per user, the
//           database itself sees the human (pg_stat_activity, RLS, column defaults), and the
//           role is gone when its lease ends.
// Standalone: `node demo/postgres-before-after.ts` (after `make build`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findInlineSecrets } from '../dist/vault/index.js';
import { validateConfig } from '../dist/config/index.js';
import { gatehouse, GatewayProcess } from '../test/helpers/cli-process.ts';
import { startPostgresCluster, type PostgresCluster } from '../test/helpers/postgres-cluster.ts';
import { createCrmDatabase, type CrmDatabase } from '../test/helpers/postgres-fixture.ts';

const LEASE_TTL_S = 15;

/** Fails the demo step with a clear message (the runner prints it, with the gateway log). */
function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`PostgreSQL demo: ${message}`);
}

interface ToolResult {
  content: { type: string; text: string }[];
  isError?: boolean;
}

export async function runPostgresDemo(log: (line: string) => void): Promise<void> {
  log('── PostgreSQL: before and after ──');
  let cluster: PostgresCluster;
  try {
    cluster = await startPostgresCluster({ install: process.env.GATEHOUSE_DEMO_INSTALL_PG === '1' });
  } catch (error) {
    log(`SKIPPED: no local PostgreSQL could be started (${(error as Error).message}).`);
    log('  Skipped: the before/after with a real database, JIT roles, pg_stat_activity and lease expiry.');
    log('  To see it: apt-get install -y postgresql (or set GATEHOUSE_PG_BINDIR), or GATEHOUSE_DEMO_INSTALL_PG=1 to let the demo install it.');
    return;
  }
  const root = mkdtempSync(path.join(tmpdir(), 'gatehouse-pg-demo-'));
  let db: CrmDatabase | undefined;
  let gateway: GatewayProcess | undefined;
  try {
    db = await createCrmDatabase(cluster, 'demo');
    log(
      `A throwaway PostgreSQL ${path.basename(path.dirname(cluster.binDir))} on 127.0.0.1:${cluster.port}, database "${db.database}" with the CRM example (examples/postgres/crm.sql).`,
    );
    log('');

    // ── before ──
    const url = `postgresql://${db.adminUser}:${db.adminPassword}@127.0.0.1:${cluster.port}/${db.database}`;
    const before = { mcpServers: { crm: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-postgres', url] } } };
    log('BEFORE — the usual MCP config: a PostgreSQL server with the connection string in its args:');
    log(`  ${JSON.stringify(before).replace(db.adminPassword, '********')}`);
    log('  · every agent, for every user, runs SQL as this one powerful login, forever;');
    log('  · the password sits in a JSON file and in every `ps` listing (/proc/<pid>/cmdline);');
    log('  · the database sees one anonymous user: no human, no purpose, nothing for RLS to use.');
    const findings = findInlineSecrets(validateConfig({ servers: { crm: before.mcpServers.crm } }, 'before', root, { env: {} }));
    for (const f of findings) log(`  Gatehouse, given this config, warns at start: ${f.path}: ${f.reason}`);
    log('');

    // ── after ──
    const dataDir = path.join(root, 'data');
    const env = { PATH: process.env.PATH, HOME: path.join(root, 'home'), GATEHOUSE_MASTER_KEY_FILE: path.join(root, 'keys', 'master.key') };
    log('AFTER — the admin credential goes into the vault (value on stdin, never argv):');
    const put = await gatehouse(['vault', 'put', 'pg-admin', '--data-dir', dataDir], { stdin: db.adminPassword, env });
    log(`  $ gatehouse vault put pg-admin --data-dir ${path.relative(process.cwd(), dataDir) || dataDir}   → ${put.stdout.trim()}`);
    const configFile = path.join(root, 'gatehouse.yaml');
    const yaml = [
      'servers:',
      '  crm:',
      '    postgres:',
      `      host: 127.0.0.1`,
      `      port: ${cluster.port}`,
      `      database: ${db.database}`,
      `      admin: { user: ${db.adminUser}, password: vault:pg-admin }   # used only to create and drop roles`,
      '      roles: { support: crm_support, sales: crm_reader }          # group → template role',
      `      lease: { ttl: ${LEASE_TTL_S}s }                                    # the demo's; 5m by default, 60m at most`,
      '      query: { maxRows: 50, denyColumns: { customers: [ssn] } }',
      '      statements:',
      '        annotate_record:',
      '          description: Adds a note to a ticket.',
      '          sql: INSERT INTO annotations (ticket_id, note) VALUES ($1, $2) RETURNING id, author, created_at',
      '          params: [{ name: ticket_id, type: integer }, { name: note, type: string, maxLength: 2000 }]',
      'access:',
      '  - allow: { groups: [support, sales], servers: [crm] }',
      '',
    ].join('\n');
    writeFileSync(configFile, yaml);
    log('  gatehouse.yaml — no connection string, no password:');
    for (const line of yaml.trimEnd().split('\n')) log(`    ${line}`);
    gateway = await GatewayProcess.start(['--config', configFile, '--data-dir', dataDir, '--port', '0'], { env });
    log(`  $ gatehouse start   → ${gateway.url}/mcp`);
    log('');

    const token = async (sub: string, groups: string) =>
      (await gatehouse(['token', 'issue', '--data-dir', dataDir, '--sub', sub, '--groups', groups], { env })).stdout.trim();
    const alice = await gateway.client(await token('alice', 'sales'));
    const carol = await gateway.client(await token('carol', 'support'));
    const call = async (who: string, client: typeof alice, tool: string, args: Record<string, unknown>): Promise<ToolResult | string> => {
      log(`  agent (${who}) → ${tool} ${JSON.stringify(args)}`);
      try {
        return (await client.callTool({ name: tool, arguments: args })) as ToolResult;
      } catch (error) {
        return (error as Error).message;
      }
    };
    const rows = (result: ToolResult | string) =>
      typeof result === 'string' ? result : (JSON.parse(result.content[0]?.text ?? '{}') as { rows: unknown[][] }).rows;

    log('The scripted agent queries as alice (group sales → template crm_reader):');
    const tickets = await call('alice', alice, 'query', { sql: 'SELECT id, title, assignee FROM tickets ORDER BY id' });
    log(`    ← ${JSON.stringify(rows(tickets))}   (row-level security on gatehouse.actor: only alice's tickets of 4)`);
    const ticketRows = rows(tickets);
    expect(
      Array.isArray(ticketRows) && ticketRows.length > 0 && (ticketRows as unknown[][]).every((r) => r[2] === 'alice'),
      `alice's query should return only her tickets (RLS), got ${JSON.stringify(ticketRows)}`,
    );
    const who = await call('alice', alice, 'query', {
      sql: "SELECT current_user, current_setting('gatehouse.actor') AS actor, current_setting('application_name') AS app",
    });
    const whoRow = Array.isArray(rows(who)) ? ((rows(who) as string[][])[0] ?? []) : [];
    const role = whoRow[0] as string;
    expect(
      /^gh_alice_/.test(role ?? '') && whoRow[1] === 'alice' && whoRow[2] === 'gatehouse:alice:crm__query',
      `the query did not run as a JIT role for alice with her context: ${JSON.stringify(rows(who))}`,
    );
    log(`    ← ${JSON.stringify(rows(who))}   (a role minted for her, just now)`);
    const activity = await db.sql<{ usename: string; application_name: string; state: string }>(
      'SELECT usename, application_name, state FROM pg_stat_activity WHERE usename LIKE $1 ORDER BY usename',
      ['gh\\_%'],
    );
    log("  The database's own view — SELECT usename, application_name FROM pg_stat_activity:");
    for (const a of activity) log(`    ${a.usename}  ${a.application_name}  (${a.state})`);
    expect(
      activity.some((a) => a.usename === role && a.application_name.startsWith('gatehouse:alice:')),
      `pg_stat_activity shows no session of ${role} named gatehouse:alice:…`,
    );
    const [leased] = (await db.roles()).filter((r) => r.rolname === role);
    log(`  pg_roles: ${role}  VALID UNTIL ${leased?.rolvaliduntil?.toISOString()}  IN ROLE ${leased?.member_of.join(', ')}  — "${leased?.comment}"`);
    log('');

    log('The "annotate a record safely" walkthrough, as carol (support):');
    const note = await call('carol', carol, 'annotate_record', { ticket_id: 101, note: 'Customer confirmed the VAT rate; refund issued.' });
    log(`    ← ${typeof note === 'string' ? note : note.content[0]?.text}   (author written by the database from gatehouse.actor)`);
    expect(
      typeof note !== 'string' && !note.isError && (note.content[0]?.text ?? '').includes('"carol"'),
      `annotate_record did not record carol as the author: ${typeof note === 'string' ? note : note.content[0]?.text}`,
    );
    log('Guardrails, as alice:');
    for (const sql of ['SELECT name, ssn FROM customers', 'SELECT 1; DROP TABLE tickets', 'DELETE FROM tickets']) {
      const refused = await call('alice', alice, 'query', { sql });
      expect(typeof refused === 'string' || refused.isError, `the guard let this through: ${sql}`);
      log(`    ← refused: ${typeof refused === 'string' ? refused : refused.content[0]?.text}`);
    }
    const audit = await gatehouse(['audit', 'query', '--data-dir', dataDir, '--tool', 'crm__query', '--kind', 'call.result', '--json'], { env });
    type AuditRow = {
      actor: { sub: string };
      outcome: { status: string; code?: string };
      notes?: { downstream?: { sql: string; role: string; rowCount: number } };
    };
    const records = JSON.parse(audit.stdout) as AuditRow[];
    const first = records.find((r) => r.outcome.status === 'ok' && r.notes?.downstream);
    const refusedRecord = records.find((r) => r.outcome.status !== 'ok');
    log('The audit log (gatehouse audit query --tool crm__query):');
    if (first?.notes?.downstream) {
      const d = first.notes.downstream;
      log(`  call.result ${first.actor.sub}: ran ${JSON.stringify(d.sql.replace(/\n/g, ' '))} as ${d.role}, ${d.rowCount} rows`);
    }
    if (refusedRecord)
      log(`  call.result ${refusedRecord.actor.sub}: ${refusedRecord.outcome.status} (${refusedRecord.outcome.code}) — refused before any database was asked`);
    log('');

    await alice.close();
    await carol.close();
    log(`The lease ends ${LEASE_TTL_S} s after it began (5 minutes by default): waiting for it…`);
    const deadline = Date.now() + (LEASE_TTL_S + 10) * 1000;
    let remaining = await db.roles();
    while (remaining.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      remaining = await db.roles();
    }
    expect(remaining.length === 0, `the leased roles outlived their lease: ${remaining.map((r) => r.rolname).join(', ')}`);
    log(`  pg_roles: no gh_* role left — ${role} was dropped when its lease ended, its sessions terminated.`);
    const login = await db.tryLogin(role as string, 'any');
    expect(login !== 'ok', `logging in as ${role} still works after its lease ended`);
    log(`  logging in as ${role} now: ${login}`);
    const output = gateway.stdout + gateway.stderr;
    expect(!output.includes(db.adminPassword), "the admin password appeared in the gateway's output");
    log("  the admin password appeared in the gateway's output: no");
  } finally {
    await gateway?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await cluster.stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runPostgresDemo((line) => process.stdout.write(`${line}\n`)).catch((error: unknown) => {
    process.stderr.write(`postgres demo failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
