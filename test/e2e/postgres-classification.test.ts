// Column classification and aggregate-only on the PostgreSQL connector, through the whole
// gateway against a real PostgreSQL: a column above the caller's clearance cannot be read in any
// spelling (aliases, expressions, predicates, `*`, whole rows), and an aggregate-only query tool
// returns summaries, never rows, and nothing at all about groups too small to hide in.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCrmDatabase, crmPostgresSettings, type CrmDatabase } from '../helpers/postgres-fixture.ts';
import { vaultGateway, type VaultGateway } from '../helpers/vault-gateway.ts';

let db: CrmDatabase;
let gw: VaultGateway;
const sessions = new Map<string, { token: string; sid: string }>();
const responses: string[] = [];

// carol (support) is cleared for confidential data; alice and dave (sales) get the default, internal.
const USERS: Record<string, string[]> = { alice: ['sales'], carol: ['support'], dave: ['sales'] };

interface Call {
  result?: { content: { type: string; text: string }[]; structuredContent?: Record<string, unknown>; isError?: boolean };
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

async function call(user: string, tool: string, args: Record<string, unknown>): Promise<Call> {
  let s = sessions.get(user);
  if (!s) {
    const token = await gw.harness.token(user, { groups: USERS[user] ?? [] });
    s = { token, sid: await gw.harness.open(token) };
    sessions.set(user, s);
  }
  const { response } = await gw.harness.rpc(s.token, s.sid, 'tools/call', { name: tool, arguments: args });
  responses.push(JSON.stringify(response));
  return response as Call;
}

beforeAll(async () => {
  db = await createCrmDatabase(inject('postgres'), 'classified');
  const settings = crmPostgresSettings(db, { lease: { ttl: '2m' }, query: { statementTimeout: '2s', maxRows: 50 } });
  gw = await vaultGateway(
    {
      sanitize: { clearance: { groups: { support: 'confidential' } } },
      servers: {
        // customers.email is confidential: sales may not read it, support may.
        crm: { postgres: settings, fields: { 'customers.email': 'confidential' } },
        // The same database behind an aggregate-only query tool.
        stats: { postgres: settings, tools: { query: { aggregateOnly: true } } },
      },
      access: [{ allow: { groups: ['support', 'sales'], servers: ['crm', 'stats'] } }],
    },
    { 'pg-admin': db.adminPassword },
  );
});

afterAll(async () => {
  await gw?.close();
  await db?.close();
});

describe('PostgreSQL column classification', () => {
  const spellings = [
    'SELECT email FROM customers',
    'SELECT email AS contact FROM customers',
    'SELECT c.email FROM customers c',
    'SELECT upper(email) AS x FROM customers',
    "SELECT name FROM customers WHERE email LIKE 'ada%'",
    'SELECT name FROM customers ORDER BY email',
    'SELECT * FROM customers',
    'SELECT c FROM customers c',
    'SELECT row_to_json(c) AS j FROM customers c',
    'SELECT x.e FROM customers AS x(i, n, e)',
    'WITH t AS (SELECT email FROM customers) SELECT * FROM t',
  ];

  it('refuses every way of reading a column above the clearance, before any credential exists', async () => {
    const rolesBefore = (await db.roles()).filter((r) => r.rolname.startsWith('gh_dave_'));
    for (const sql of spellings) {
      const res = await call('dave', 'crm__query', { sql });
      expect(res.error, sql).toMatchObject({ code: -32602, data: { reason: 'postgres.column_above_clearance' } });
      expect(res.error?.message, sql).toMatch(/classified confidential, above your clearance|has columns above your clearance/);
    }
    // Refused at parse time: dave never got a database role, and no value left the database.
    expect((await db.roles()).filter((r) => r.rolname.startsWith('gh_dave_'))).toEqual(rolesBefore);
    for (const text of responses) expect(text).not.toContain('@example.com');
    const records = (await gw.auditBodies()).filter((r) => r.kind === 'call.result' && (r.body.actor as { sub: string }).sub === 'dave');
    expect(records).toHaveLength(spellings.length);
    for (const r of records) {
      expect((r.body.outcome as { code: string }).code).toBe('postgres.column_above_clearance');
      expect((r.body.notes as Record<string, unknown> | undefined)?.downstream).toBeUndefined();
    }
  });

  it('leaves the rest of the table to the same caller, and the column to a caller cleared for it', async () => {
    const names = await call('alice', 'crm__query', { sql: 'SELECT id, name FROM customers ORDER BY id' });
    expect(names.error).toBeUndefined();
    expect((names.result?.structuredContent as { rows: unknown[][] }).rows).toEqual([
      [1, 'Ada Lovelace'],
      [2, 'Grace Hopper'],
      [3, 'Katherine Johnson'],
    ]);
    const emails = await call('carol', 'crm__query', { sql: 'SELECT email AS contact FROM customers ORDER BY id' });
    expect(emails.error).toBeUndefined();
    expect((emails.result?.structuredContent as { rows: unknown[][] }).rows).toHaveLength(3);
  });

  it('describe hides the column from a caller below its level and shows it to one cleared for it', async () => {
    const columnsFor = async (user: string) => {
      const res = await call(user, 'crm__describe', { table: 'customers' });
      expect(res.error).toBeUndefined();
      const tables = (res.result?.structuredContent as { tables: { columns: { name: string }[] }[] }).tables;
      return tables[0]?.columns.map((c) => c.name);
    };
    expect(await columnsFor('alice')).toEqual(['id', 'name', 'region']);
    expect(await columnsFor('carol')).toEqual(['id', 'name', 'email', 'region']);
  });
});

describe('PostgreSQL aggregate-only query tool', () => {
  it('returns counts and summaries, no row values, in both the text and the structured result', async () => {
    const res = await call('carol', 'stats__query', { sql: 'SELECT t.id, t.title, t.status FROM tickets t CROSS JOIN generate_series(1, 3) g' });
    expect(res.error).toBeUndefined();
    const summary = res.result?.structuredContent as { rows: { aggregateOnly: boolean; rowCount: number; columns: Record<string, unknown> } };
    expect(summary.rows).toMatchObject({ aggregateOnly: true, rowCount: 12 });
    expect(summary.rows.columns).toMatchObject({ id: { nonNull: 12, distinct: 4, min: 101, max: 104 }, status: { nonNull: 12 } });
    const wire = JSON.stringify(res.result);
    expect(wire).not.toContain('VAT');
    expect(wire).not.toContain('Cannot reset password');
    expect(res.result?.content.at(-1)?.text).toContain('rows replaced by counts and summaries');
  });

  it('says nothing about fewer than five rows: not their values, not even their count', async () => {
    const res = await call('carol', 'stats__query', { sql: "SELECT id, name FROM customers WHERE name = 'Ada Lovelace'" });
    expect(res.error).toBeUndefined();
    expect(res.result?.structuredContent).toEqual({
      columns: ['id', 'name'],
      rows: { aggregateOnly: true, rowCount: '<5', note: 'fewer than 5 rows: no per-column summary' },
    });
    const wire = JSON.stringify(res.result);
    expect(wire).not.toContain('Ada');
    expect(wire).not.toMatch(/"rowCount":\s*1\b/);
  });
});
