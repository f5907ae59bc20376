// The PostgreSQL connector through the whole gateway (front door → pipeline → broker → JIT
// role), against a real PostgreSQL loaded with the shipped CRM example (examples/postgres).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCrmDatabase, crmPostgresSettings, type CrmDatabase } from '../helpers/postgres-fixture.ts';
import { vaultGateway, type VaultGateway } from '../helpers/vault-gateway.ts';

let db: CrmDatabase;
let gw: VaultGateway;
const sessions = new Map<string, { token: string; sid: string }>();
const responses: string[] = [];

const USERS: Record<string, string[]> = { alice: ['sales'], bob: ['sales'], carol: ['support'], dave: ['sales'], eve: ['nobody'] };

async function session(user: string): Promise<{ token: string; sid: string }> {
  let s = sessions.get(user);
  if (!s) {
    const token = await gw.harness.token(user, { groups: USERS[user] ?? [] });
    s = { token, sid: await gw.harness.open(token) };
    sessions.set(user, s);
  }
  return s;
}

interface Call {
  result?: { content: { type: string; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

async function call(user: string, tool: string, args: Record<string, unknown>, meta?: Record<string, unknown>): Promise<Call> {
  const { token, sid } = await session(user);
  const { response } = await gw.harness.rpc(token, sid, 'tools/call', { name: tool, arguments: args, ...(meta ? { _meta: meta } : {}) });
  responses.push(JSON.stringify(response));
  return response as Call;
}

function data(c: Call): Record<string, unknown> {
  expect(c.error).toBeUndefined();
  expect(c.result?.isError).not.toBe(true);
  return JSON.parse(c.result?.content[0]?.text ?? 'null') as Record<string, unknown>;
}

beforeAll(async () => {
  db = await createCrmDatabase(inject('postgres'), 'tools');
  gw = await vaultGateway(
    {
      servers: {
        crm: {
          postgres: crmPostgresSettings(db, {
            lease: { ttl: '2m' },
            query: { statementTimeout: '1s', maxRows: 5, maxBytes: '4kb', denyColumns: { customers: ['ssn'] }, allowFunctions: ['public.sneaky_close'] },
            statements: {
              annotate_record: {
                description: 'Adds a note to a ticket.',
                sql: 'INSERT INTO annotations (ticket_id, note) VALUES ($1, $2) RETURNING id, ticket_id, note, author, request_id',
                params: [
                  { name: 'ticket_id', type: 'integer' },
                  { name: 'note', type: 'string', maxLength: 500 },
                ],
              },
              close_ticket: {
                description: 'Closes a ticket.',
                sql: "UPDATE tickets SET status = 'closed' WHERE id = $1 AND status = 'open'",
                params: [{ name: 'ticket_id', type: 'integer' }],
                maxRows: 1,
              },
              reopen_all: {
                description: 'Reopens every closed ticket.',
                sql: "UPDATE tickets SET status = 'open' WHERE status = 'closed'",
                maxRows: 1,
              },
            },
          }),
        },
      },
      access: [{ allow: { groups: ['support', 'sales', 'nobody'], servers: ['crm'] } }],
    },
    { 'pg-admin': db.adminPassword },
  );
});

afterAll(async () => {
  await gw?.close();
  await db?.close();
});

describe('PostgreSQL connector through the gateway', () => {
  it('lists query, describe and the declared statements, marking overwrites destructive', async () => {
    const { token, sid } = await session('alice');
    const { response } = await gw.harness.rpc(token, sid, 'tools/list');
    const tools = (response.result as { tools: { name: string; annotations?: Record<string, boolean> }[] }).tools;
    expect(tools.map((t) => t.name)).toEqual(['query', 'describe', 'annotate_record', 'close_ticket', 'reopen_all']);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(byName.query).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(byName.annotate_record).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    expect(byName.close_ticket).toMatchObject({ readOnlyHint: false, destructiveHint: true });
  });

  it('row-level security sees the actor: each user gets their own tickets', async () => {
    const sql = 'SELECT id, title FROM tickets ORDER BY id';
    expect(data(await call('alice', 'query', { sql })).rows).toEqual([
      [101, 'Invoice shows the wrong VAT rate'],
      [103, 'Export to CSV times out'],
    ]);
    expect(data(await call('bob', 'query', { sql })).rows).toEqual([[102, 'Cannot reset password']]);
    expect((data(await call('carol', 'query', { sql })).rows as unknown[]).length).toBe(4);
  });

  it('propagates the context into every transaction and pg_stat_activity', async () => {
    const out = data(
      await call(
        'alice',
        'query',
        {
          sql: "SELECT current_setting('application_name') AS app, current_setting('gatehouse.actor') AS actor, current_setting('gatehouse.purpose') AS purpose, current_setting('gatehouse.request_id') AS request_id, current_user AS role, pg_is_in_recovery() AS r, current_setting('transaction_read_only') AS ro",
        },
        { 'io.gatehouse/purpose': 'find my open tickets' },
      ),
    );
    const [app, actor, purpose, requestId, role, , readOnly] = (out.rows as unknown[][])[0] as string[];
    expect(app).toBe('gatehouse:alice:crm__query');
    expect(actor).toBe('alice');
    expect(purpose).toBe('crm__query (stated: find my open tickets)');
    expect(role).toMatch(/^gh_alice_[a-z2-7]{8}$/);
    expect(readOnly).toBe('on');
    const bodies = await gw.auditBodies();
    const record = bodies.find((r) => r.kind === 'call.result' && (r.body.requestId as string) === requestId);
    expect(record?.body.notes).toMatchObject({
      lease: { resource: role, purpose: 'crm__query (stated: find my open tickets)' },
      downstream: {
        system: 'postgresql',
        database: db.database,
        role,
        templates: ['crm_reader'],
        context: { application_name: app, 'gatehouse.actor': 'alice', 'gatehouse.request_id': requestId },
      },
    });
    // The database's own view: the leased role's session carries the human and the tool.
    const activity = await db.sql<{ application_name: string }>('SELECT application_name FROM pg_stat_activity WHERE usename = $1', [role]);
    expect(activity.map((a) => a.application_name)).toContain('gatehouse:alice:crm__query');
    // Outside a transaction, the actor is not set: it never leaks into the next one.
    expect(data(await call('alice', 'query', { sql: "SELECT current_setting('gatehouse.actor', true) = 'alice' AS set" })).rows).toEqual([[true]]);
  });

  it('records the real SQL, its parameters, the role and the row count in the audit log', async () => {
    const out = data(await call('carol', 'query', { sql: 'SELECT id FROM tickets WHERE assignee = $1 ORDER BY id', params: ['alice'] }));
    expect(out.rows).toEqual([[101], [103]]);
    const bodies = await gw.auditBodies();
    const result = bodies.filter((r) => r.kind === 'call.result' && (r.body.actor as { sub: string }).sub === 'carol').at(-1);
    expect(result?.body.notes).toMatchObject({
      downstream: {
        sql: 'SELECT * FROM (\nSELECT id FROM tickets WHERE assignee = $1 ORDER BY id\n) AS gatehouse_query LIMIT $2',
        params: ['alice', 6],
        role: expect.stringMatching(/^gh_carol_/),
        rowCount: 2,
        truncated: false,
      },
    });
    const use = bodies.filter((r) => r.kind === 'lease.use' && (r.body.actor as { sub: string }).sub === 'carol').at(-1);
    expect(use?.body).toMatchObject({ purpose: 'crm__query', target: { server: 'crm', tool: 'crm__query' } });
    const issue = bodies.find((r) => r.kind === 'lease.issue' && (r.body.actor as { sub: string }).sub === 'carol');
    expect(issue?.body).toMatchObject({
      actor: { sub: 'carol', groups: ['support'] },
      purpose: expect.any(String),
      lease: { resource: expect.stringMatching(/^gh_carol_/) },
    });
  });

  it('annotate_record: parameters are bound, never spliced — injection attempts are stored as text', async () => {
    const note = "x'); DROP TABLE tickets; --";
    const out = data(await call('carol', 'annotate_record', { ticket_id: 101, note }));
    expect(out.rowsAffected).toBe(1);
    const [, ticketId, stored, author, requestId] = (out.rows as unknown[][])[0] as unknown[];
    expect([ticketId, stored, author]).toEqual([101, note, 'carol']);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await db.sql('SELECT count(*)::int AS n FROM tickets')).toEqual([{ n: 4 }]);

    const before = await db.sql('SELECT count(*)::int AS n FROM annotations');
    const typed = await call('carol', 'annotate_record', { ticket_id: '101 OR 1=1', note: 'x' });
    // Refused by the validate stage against the tool's input schema, before policy and the database.
    expect(typed.error).toMatchObject({
      code: -32602,
      message: 'Invalid arguments for tool "crm__annotate_record": arguments.ticket_id must be integer.',
      data: { code: 'mcp.invalid_arguments' },
    });
    const forged = await call('carol', 'annotate_record', { ticket_id: 101, note: 'x', author: 'mallory' });
    expect(forged.error).toMatchObject({
      code: -32602,
      message: 'Invalid arguments for tool "crm__annotate_record": arguments must NOT have additional properties ("author").',
    });
    expect(await db.sql('SELECT count(*)::int AS n FROM annotations')).toEqual(before);

    const bodies = await gw.auditBodies();
    const record = bodies.filter((r) => r.kind === 'call.result' && (r.body.target as { tool?: string }).tool === 'crm__annotate_record').at(0);
    expect(record?.body.notes).toMatchObject({
      downstream: {
        sql: 'INSERT INTO annotations (ticket_id, note) VALUES ($1, $2) RETURNING id, ticket_id, note, author, request_id',
        params: { ticket_id: 101, note },
        rowsAffected: 1,
      },
    });
  });

  it('query: SQL injection through arguments gets nowhere', async () => {
    const bound = data(await call('carol', 'query', { sql: 'SELECT id FROM tickets WHERE title = $1', params: ["x' OR '1'='1"] }));
    expect(bound.rows).toEqual([]);
    const stacked = await call('carol', 'query', { sql: "SELECT id FROM tickets WHERE title = 'x'; DROP TABLE tickets; --'" });
    expect(stacked.error).toMatchObject({ code: -32602, data: { reason: 'postgres.multiple_statements' } });
    // Text crafted to break out of the row-limit wrapper does not even parse on its own.
    const escaped = await call('carol', 'query', { sql: 'SELECT 1) AS q; DROP TABLE tickets; SELECT * FROM (SELECT 1' });
    expect(escaped.error).toMatchObject({
      code: -32602,
      message: 'The SQL does not parse: syntax error at or near ")"',
      data: { reason: 'postgres.syntax_error' },
    });
    const spoof = await call('alice', 'query', { sql: "SELECT id FROM tickets, LATERAL (SELECT set_config('gatehouse.actor', 'bob', true)) s" });
    expect(spoof.error).toMatchObject({
      code: -32602,
      message: 'The function pg_catalog.set_config() is not allowed in queries: it changes session or transaction state.',
      data: { reason: 'postgres.function_denied' },
    });
    const params = await call('carol', 'query', { sql: 'SELECT $1::text', params: ['a', 'b'] });
    expect(params.error?.data?.reason).toBe('postgres.params_mismatch');
    expect(await db.sql('SELECT count(*)::int AS n FROM tickets')).toEqual([{ n: 4 }]);
  });

  it('query: multiple statements, DML and DDL are refused before any credential exists', async () => {
    const cases: [string, string, string][] = [
      ['SELECT 1; SELECT 2', 'postgres.multiple_statements', 'Only a single SELECT statement is allowed; this SQL has 2 statements.'],
      ['DROP TABLE tickets', 'postgres.not_select', 'Only SELECT is allowed here; this is DROP (DDL).'],
      ['CREATE TABLE evil (id int)', 'postgres.not_select', 'Only SELECT is allowed here; this is CREATE TABLE (DDL).'],
      ['DELETE FROM tickets', 'postgres.not_select', 'Only SELECT is allowed here; this is DELETE.'],
      [
        'WITH gone AS (DELETE FROM tickets RETURNING id) SELECT id FROM gone',
        'postgres.not_select',
        'Only reading is allowed here; the query contains DELETE.',
      ],
      ['GRANT crm_support TO PUBLIC', 'postgres.not_select', 'Only SELECT is allowed here; this is GRANT ROLE.'],
    ];
    for (const [sql, reason, message] of cases) {
      const res = await call('dave', 'query', { sql });
      expect(res.error, sql).toMatchObject({ code: -32602, message, data: { reason } });
    }
    // dave never got as far as a credential: no role was minted for him.
    expect((await db.roles()).filter((r) => r.rolname.startsWith('gh_dave_'))).toEqual([]);
    expect(await db.sql("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'evil'")).toEqual([{ n: 0 }]);
    const refusals = (await gw.auditBodies()).filter((r) => r.kind === 'call.result' && (r.body.actor as { sub: string }).sub === 'dave');
    expect(refusals).toHaveLength(cases.length);
    expect(refusals.map((r) => (r.body.outcome as { code: string }).code)).toEqual(cases.map(([, reason]) => reason));
  });

  it('query: the row limit and the size limit truncate and say so; the timeout holds', async () => {
    const rows = data(await call('alice', 'query', { sql: 'SELECT g FROM generate_series(1, 100) g' }));
    expect(rows).toMatchObject({
      columns: ['g'],
      rows: [[1], [2], [3], [4], [5]],
      rowCount: 5,
      truncated: true,
      truncation: 'row limit: only the first 5 rows are returned',
    });
    const big = data(await call('alice', 'query', { sql: "SELECT repeat('x', 1500) AS blob FROM generate_series(1, 5)" }));
    expect(big).toMatchObject({ rowCount: 2, truncated: true });
    expect(big.truncation).toMatch(/^size limit: only the first 2 rows \(\d+ bytes\) fit in 4096 bytes$/);
    const slow = await call('alice', 'query', { sql: 'SELECT pg_sleep(3)' });
    expect(slow.result).toMatchObject({ isError: true, content: [{ text: 'PostgreSQL error 57014: canceling statement due to statement timeout' }] });
    const missing = await call('alice', 'query', { sql: 'SELECT * FROM nope' });
    expect(missing.result?.content[0]?.text).toBe('PostgreSQL error 42P01: relation "nope" does not exist');
  });

  it('query: the transaction is read-only whatever the role may do, even in a function the operator allowed', async () => {
    await db.sql("CREATE OR REPLACE FUNCTION sneaky_close() RETURNS int LANGUAGE sql AS $$ UPDATE tickets SET status = 'closed' WHERE id = 102 RETURNING 1 $$");
    await db.sql('GRANT EXECUTE ON FUNCTION sneaky_close() TO crm_support');
    const res = await call('carol', 'query', { sql: 'SELECT sneaky_close()' });
    expect(res.result?.isError).toBe(true);
    expect(res.result?.content[0]?.text).toBe('PostgreSQL error 25006: cannot execute UPDATE in a read-only transaction');
    expect(await db.sql('SELECT status FROM tickets WHERE id = 102')).toEqual([{ status: 'open' }]);
  });

  it('column deny-lists refuse before the database is asked; column grants are the hard boundary', async () => {
    const denied = await call('carol', 'query', { sql: 'SELECT name, ssn FROM customers' });
    expect(denied.error).toMatchObject({
      code: -32602,
      message: 'The column "ssn" of customers may not be read through this tool.',
      data: { reason: 'postgres.column_denied' },
    });
    const star = await call('carol', 'query', { sql: 'SELECT * FROM customers' });
    expect(star.error?.data?.reason).toBe('postgres.column_denied');
    expect(data(await call('carol', 'query', { sql: 'SELECT name FROM customers ORDER BY id LIMIT 1' })).rows).toEqual([['Ada Lovelace']]);
    const described = data(await call('carol', 'describe', { table: 'customers' }));
    expect(described.tables).toEqual([
      {
        schema: 'public',
        table: 'customers',
        columns: [
          { name: 'id', type: 'integer', nullable: false },
          { name: 'name', type: 'text', nullable: false },
          { name: 'email', type: 'text', nullable: false },
          { name: 'region', type: 'text', nullable: false },
        ],
      },
    ]);
    const all = data(await call('alice', 'describe', {}));
    expect((all.tables as { table: string }[]).map((t) => t.table)).toEqual(['annotations', 'customers', 'tickets']);
  });

  it('declared statements: overwrite with a hard row limit; over the limit nothing changes', async () => {
    const closed = data(await call('carol', 'close_ticket', { ticket_id: 103 }));
    expect(closed).toEqual({ rowsAffected: 1 });
    expect(await db.sql('SELECT status FROM tickets WHERE id = 103')).toEqual([{ status: 'closed' }]);
    // Two tickets are closed now (103, 104): reopening all would touch 2 rows > maxRows 1.
    const reopen = await call('carol', 'reopen_all', {});
    expect(reopen.error).toMatchObject({
      code: -32003,
      message: 'The statement would affect 2 rows; at most 1 are allowed. Nothing was changed.',
      data: { reason: 'postgres.too_many_rows' },
    });
    expect(await db.sql("SELECT id FROM tickets WHERE status = 'closed' ORDER BY id")).toEqual([{ id: 103 }, { id: 104 }]);
    // A role without UPDATE privilege is refused by the database itself.
    const sales = await call('bob', 'close_ticket', { ticket_id: 102 });
    expect(sales.result).toMatchObject({ isError: true, content: [{ text: 'PostgreSQL error 42501: permission denied for table tickets' }] });
  });

  it('a user whose groups map to no role is refused, and no role is created', async () => {
    const res = await call('eve', 'query', { sql: 'SELECT 1' });
    expect(res.error).toMatchObject({ code: -32003, message: 'No database role is mapped to your groups for "crm".', data: { reason: 'postgres.no_role' } });
    expect((await db.roles()).filter((r) => r.rolname.startsWith('gh_eve_'))).toEqual([]);
  });

  it('one warm lease per user is reused across calls; ending the session revokes it', async () => {
    const roles = (await db.roles()).map((r) => r.rolname);
    expect(roles.filter((r) => r.startsWith('gh_alice_'))).toHaveLength(1);
    const issues = (await gw.auditBodies()).filter((r) => r.kind === 'lease.issue' && (r.body.actor as { sub: string }).sub === 'alice');
    expect(issues).toHaveLength(1);
    const { token, sid } = await session('alice');
    const res = await gw.harness.request('DELETE', { authorization: `Bearer ${token}`, 'mcp-session-id': sid });
    expect(res.status).toBe(200);
    sessions.delete('alice');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await db.roles()).some((r) => r.rolname.startsWith('gh_alice_'))) await new Promise((r) => setTimeout(r, 50));
    expect((await db.roles()).filter((r) => r.rolname.startsWith('gh_alice_'))).toEqual([]);
    const revoke = (await gw.auditBodies()).filter((r) => r.kind === 'lease.revoke' && (r.body.actor as { sub: string }).sub === 'alice').at(-1);
    expect(revoke?.body).toMatchObject({ reason: 'session ended' });
  });

  it('the admin credential (a canary) never appears in any response, log line, audit record or data file', async () => {
    await gw.assembly.audit.flush();
    const canary = db.adminPassword;
    expect(responses.length).toBeGreaterThan(20);
    expect(responses.join('\n')).not.toContain(canary);
    expect(gw.logs.length).toBeGreaterThan(0);
    expect(gw.logs.join('')).not.toContain(canary);
    const bodies = await gw.auditBodies();
    expect(JSON.stringify(bodies)).not.toContain(canary);
    expect(gw.dataDirText()).not.toContain(canary);
    // The vault was used for it, and says so without the value.
    const uses = bodies.filter((r) => r.kind === 'vault.use');
    expect(uses[0]?.body).toEqual({ secret: 'pg-admin', consumer: 'servers.crm.postgres.admin.password', origin: 'store' });
    // Leased roles' passwords are absent too: every lease.issue body lacks a password field.
    for (const issue of bodies.filter((r) => r.kind === 'lease.issue')) expect(JSON.stringify(issue.body)).not.toMatch(/password|SCRAM/i);
  });
});
