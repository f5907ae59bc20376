// The PostgreSQL connector's query guard, actor binding and session hygiene against a real
// PostgreSQL loaded with the shipped CRM example: the reported attack (a text-executing
// function rewriting gatehouse.actor so alice reads bob's ticket) and its variants, the catalog
// check's decisions, the tamper-proof actor, session state that must not outlive a call, NUL
// characters, and column deny-list bypasses.
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUILTIN_DENIED, VOLATILE_ALLOWED, type PostgresCredential } from '../../src/connectors/postgres/index.js';
import type { Lease } from '../../src/vault/index.js';
import { createCrmDatabase, crmPostgresSettings, type CrmDatabase } from '../helpers/postgres-fixture.ts';
import { vaultGateway, type VaultGateway } from '../helpers/vault-gateway.ts';

let db: CrmDatabase;
let gw: VaultGateway;
const sessions = new Map<string, { token: string; sid: string }>();

const USERS: Record<string, string[]> = { alice: ['sales'], bob: ['sales'], carol: ['support'] };
const ALICE_TICKETS = [[101], [103]];

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
  result?: { content: { type: string; text: string }[]; isError?: boolean };
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

async function call(user: string, tool: string, args: Record<string, unknown>, server = 'crm'): Promise<Call> {
  const { token, sid } = await session(user);
  const { response } = await gw.harness.rpc(token, sid, 'tools/call', { name: `${server}__${tool}`, arguments: args });
  return response as Call;
}

async function rows(user: string, sql: string, params?: unknown[]): Promise<unknown[][]> {
  const res = await call(user, 'query', { sql, ...(params ? { params } : {}) });
  expect(res.error, sql).toBeUndefined();
  expect(res.result?.isError, `${sql}: ${res.result?.content[0]?.text}`).not.toBe(true);
  return (JSON.parse(res.result?.content[0]?.text ?? '{}') as { rows: unknown[][] }).rows;
}

async function refused(user: string, sql: string): Promise<{ reason: unknown; message: string }> {
  const res = await call(user, 'query', { sql });
  expect(res.result, `${sql} was not refused: ${JSON.stringify(res.result)}`).toBeUndefined();
  expect(res.error?.code, sql).toBe(-32602);
  return { reason: res.error?.data?.reason, message: res.error?.message ?? '' };
}

function leaseOf(user: string): Lease<PostgresCredential> {
  const lease = gw.assembly.broker.active().find((l) => l.actor.sub === user && l.connector === 'crm');
  if (!lease) throw new Error(`no active lease for ${user}`);
  return lease as Lease<PostgresCredential>;
}

async function advisoryLocksOfLeasedRoles(): Promise<number> {
  const [row] = await db.sql<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.usename LIKE 'gh\\_%' AND a.datname = current_database()",
  );
  return row?.n ?? -1;
}

beforeAll(async () => {
  db = await createCrmDatabase(inject('postgres'), 'guard');
  // What another user of the database could have created: functions that run text, run as their
  // owner, shadow a built-in through the search path, hide behind an operator, a domain or the
  // t.f notation. Each raises if it ever runs, so a refusal proves the statement never ran.
  await db.sql(`
    CREATE SCHEMA evil;
    GRANT USAGE ON SCHEMA evil TO PUBLIC;
    CREATE FUNCTION evil.run(q text) RETURNS text LANGUAGE plpgsql STABLE AS $$
      BEGIN EXECUTE q; RAISE EXCEPTION 'evil.run ran'; END $$;
    CREATE FUNCTION evil.as_owner() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
      BEGIN RAISE EXCEPTION 'evil.as_owner ran'; END $$;
    CREATE FUNCTION public.lower(v varchar) RETURNS text LANGUAGE plpgsql STABLE AS $$
      BEGIN PERFORM set_config('gatehouse.actor', 'bob', true); RAISE EXCEPTION 'public.lower ran'; END $$;
    CREATE FUNCTION evil.cmp(a text, b text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
      BEGIN RAISE EXCEPTION 'evil.cmp ran'; END $$;
    CREATE OPERATOR public.~~~ (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.cmp);
    CREATE FUNCTION evil.valid(v text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
      BEGIN RAISE EXCEPTION 'evil.valid ran'; END $$;
    CREATE DOMAIN public.checked_text AS text CHECK (evil.valid(VALUE));
    CREATE FUNCTION public.fullname(c customers) RETURNS text LANGUAGE sql STABLE AS $$ SELECT c.name || ' ' || c.ssn $$;
    -- Allowed by the operator below (query.allowFunctions): they leave state in the session.
    CREATE FUNCTION public.grab_state() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_lock(4242);
        PERFORM set_config('app.tenant', 'other', false);
        PERFORM set_config('role', 'crm_reader', false);
        RETURN 'grabbed';
      END $$;
    -- Replaces the driver's own prepared context statement on the connection with its own.
    CREATE FUNCTION public.leave_prepared() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        EXECUTE 'DEALLOCATE gatehouse_context';
        EXECUTE $p$PREPARE gatehouse_context(text, text, text, text, text) AS SELECT set_config('gatehouse.actor', 'bob', true)$p$;
        RETURN 'prepared';
      END $$;
  `);
  gw = await vaultGateway(
    {
      servers: {
        crm: {
          postgres: crmPostgresSettings(db, {
            lease: { ttl: '2m' },
            query: { statementTimeout: '2s', maxRows: 50, denyColumns: { customers: ['ssn'] }, allowFunctions: ['public.grab_state', 'public.leave_prepared'] },
            statements: {
              take_lock: { description: 'Takes a session-level advisory lock (operator-written SQL).', sql: 'SELECT pg_advisory_lock(77) IS NULL AS locked' },
            },
          }),
        },
        // The same database without a deny-list: only the column GRANTs stand.
        crm_open: { postgres: crmPostgresSettings(db, { lease: { ttl: '2m' }, query: { statementTimeout: '2s' } }) },
      },
      access: [{ allow: { groups: ['support', 'sales'], servers: ['crm', 'crm_open'] } }],
      // Dozens of refused queries back to back, on purpose.
      rateLimits: { enabled: false },
    },
    { 'pg-admin': db.adminPassword },
  );
});

afterAll(async () => {
  await gw?.close();
  await db?.close();
});

describe('the reported attack: SQL text executed by a function rewrites the actor', () => {
  const attack = `SELECT (SELECT count(*) FROM ts_stat($q$SELECT to_tsvector(set_config('gatehouse.actor', 'bob', true))$q$)) AS x,
                         (SELECT string_agg(title, ',') FROM tickets) AS t`;

  it('is refused, and alice still sees only her tickets', async () => {
    expect(await refused('alice', attack)).toEqual({
      reason: 'postgres.function_denied',
      message: 'The function pg_catalog.ts_stat() is not allowed in queries: it runs SQL given as text, which this check cannot see.',
    });
    expect(await rows('alice', 'SELECT id FROM tickets ORDER BY id')).toEqual(ALICE_TICKETS);
  });

  it('every variant — other text-executing functions, nesting, spelling — is refused', async () => {
    const setActor = `$q$SELECT set_config('gatehouse.actor', 'bob', true)$q$`;
    const variants = [
      `SELECT ts_rewrite('a'::tsquery, $q$SELECT set_config('gatehouse.actor','bob',true)::tsquery, 'a'::tsquery$q$)`,
      `SELECT query_to_xml(${setActor}, true, false, '')`,
      `SELECT query_to_xml_and_xmlschema(${setActor}, true, false, '')`,
      `SELECT query_to_xmlschema(${setActor}, true, false, '')`,
      `SELECT cursor_to_xml('c'::refcursor, 1, true, false, '')`,
      `SELECT table_to_xml('tickets', true, false, '')`,
      `SELECT schema_to_xml('public', true, false, '')`,
      `SELECT database_to_xml(true, false, '')`,
      // nesting: subqueries, CTEs, LATERAL, casts, ORDER BY, VALUES, ROWS FROM, CASE, FILTER
      `WITH x AS MATERIALIZED (SELECT * FROM ts_stat(${setActor})) SELECT id FROM tickets, x`,
      `SELECT id FROM tickets, LATERAL (SELECT count(*) FROM pg_catalog.ts_stat(${setActor})) s`,
      `SELECT id FROM tickets ORDER BY (SELECT count(*) FROM ts_stat(${setActor}))`,
      `VALUES ((SELECT count(*) FROM ts_stat(${setActor})))`,
      `SELECT (query_to_xml(${setActor}, true, false, ''))::text::int`,
      `SELECT * FROM ROWS FROM (generate_series(1, 2), ts_stat(${setActor})) AS r`,
      `SELECT CASE WHEN true THEN (SELECT 1 FROM ts_stat(${setActor}) LIMIT 1) END`,
      `SELECT count(*) FILTER (WHERE (SELECT 1 FROM ts_stat(${setActor}) LIMIT 1) = 1) FROM tickets`,
      `SELECT 1 WHERE 1 IN (SELECT 1 FROM ts_stat(${setActor}))`,
      // spelling: schema-qualified, quoted, mixed case, Unicode escapes
      `SELECT * FROM "pg_catalog"."ts_stat"(${setActor})`,
      `SELECT * FROM PG_CATALOG.TS_STAT(${setActor})`,
      `SELECT * FROM Ts_Stat(${setActor})`,
      String.raw`SELECT * FROM U&"\0074s_stat"(${setActor})`,
      `SELECT set_config('gatehouse.actor', 'bob', true), (SELECT string_agg(title, ',') FROM tickets)`,
      `SELECT "set_config"('gatehouse.actor', 'bob', false)`,
      // what else the text could have done: locks that outlive the call, notifications, sequences
      'SELECT pg_advisory_lock(1)',
      'SELECT pg_try_advisory_lock(1)',
      "SELECT pg_notify('c', 'x')",
      "SELECT nextval('annotations_id_seq')",
    ];
    for (const sql of variants) expect((await refused('alice', sql)).reason, sql).toBe('postgres.function_denied');
    const seen = await rows('alice', "SELECT id FROM tickets WHERE title = 'Cannot reset password'");
    expect(seen).toEqual([]);
  });

  it('SET, RESET, LOCK, LISTEN, NOTIFY, DO, CALL, PREPARE, EXECUTE, DECLARE, COPY and SELECT INTO are refused', async () => {
    for (const sql of [
      "SET gatehouse.actor = 'bob'",
      'SET search_path = evil, public',
      'RESET ALL',
      'LOCK TABLE tickets',
      'LISTEN x',
      "NOTIFY x, 'y'",
      'DO $$ BEGIN PERFORM 1; END $$',
      'CALL p()',
      'PREPARE p AS SELECT 1',
      'EXECUTE p',
      'DECLARE c CURSOR FOR SELECT 1',
      'COPY tickets TO STDOUT',
      'SELECT * INTO t2 FROM tickets',
      'EXPLAIN SELECT 1',
    ]) {
      expect((await refused('alice', sql)).reason, sql).toBe('postgres.not_select');
    }
    expect((await refused('alice', 'SELECT id FROM tickets FOR SHARE')).reason).toBe('postgres.row_locks');
  });
});

describe('the catalog check decides every function, operator and type from facts', () => {
  it('the facts it relies on hold on this server', async () => {
    // Built-in operators, casts and type I/O functions are never volatile or denied: the check
    // only looks at database-defined ones.
    expect(
      await db.sql(
        `SELECT o.oprname, p.proname FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode
                     WHERE o.oid < 16384 AND (p.provolatile = 'v' OR p.prosecdef OR p.proname = ANY ($1))`,
        [[...BUILTIN_DENIED.keys()]],
      ),
    ).toEqual([]);
    expect(
      await db.sql(
        "SELECT c.castfunc::regprocedure::text AS f FROM pg_cast c JOIN pg_proc p ON p.oid = c.castfunc WHERE c.oid < 16384 AND p.provolatile = 'v'",
      ),
    ).toEqual([]);
    expect(
      await db.sql(
        "SELECT t.typname FROM pg_type t JOIN pg_proc p ON p.oid IN (t.typinput, t.typoutput, t.typsubscript) WHERE t.oid < 16384 AND p.provolatile = 'v'",
      ),
    ).toEqual([]);
    expect(await db.sql('SELECT proname FROM pg_proc WHERE oid < 16384 AND prosecdef')).toEqual([]);
    // The text-executing and table-dumping built-ins that are not VOLATILE — why the list exists.
    expect(
      await db.sql("SELECT DISTINCT proname FROM pg_proc WHERE oid < 16384 AND provolatile <> 'v' AND proname = ANY ($1) ORDER BY 1", [
        [...BUILTIN_DENIED.keys()],
      ]),
    ).toEqual(
      [
        'database_to_xml',
        'database_to_xml_and_xmlschema',
        'database_to_xmlschema',
        'pg_current_xact_id',
        'schema_to_xml',
        'schema_to_xml_and_xmlschema',
        'schema_to_xmlschema',
        'table_to_xml',
        'table_to_xml_and_xmlschema',
        'table_to_xmlschema',
        'ts_rewrite',
        'txid_current',
      ].map((proname) => ({ proname })),
    );
    // Every name in the lists is a real built-in here (newer-version names excepted), so no typo hides a gap.
    const names = [...BUILTIN_DENIED.keys(), ...VOLATILE_ALLOWED].filter((n) => !['random_normal', 'uuidv4', 'uuidv7'].includes(n));
    const known = await db.sql<{ proname: string }>('SELECT DISTINCT proname FROM pg_proc WHERE oid < 16384 AND proname = ANY ($1)', [names]);
    expect(known.map((r) => r.proname).sort()).toEqual([...new Set(names)].sort());
  });

  it('refuses volatile built-ins and functions defined in the database, in any position, and nothing of theirs runs', async () => {
    const cases: [string, string][] = [
      [
        "SELECT pg_read_file('/etc/passwd')",
        'The function pg_catalog.pg_read_file() is not allowed in queries: it is VOLATILE (it may change state); queries may call immutable and stable functions and a few harmless volatile ones.',
      ],
      [
        "SELECT lo_import('/etc/passwd')",
        'The function pg_catalog.lo_import() is not allowed in queries: it is VOLATILE (it may change state); queries may call immutable and stable functions and a few harmless volatile ones.',
      ],
      [
        'SELECT pg_terminate_backend(pg_backend_pid())',
        'The function pg_catalog.pg_terminate_backend() is not allowed in queries: it is VOLATILE (it may change state); queries may call immutable and stable functions and a few harmless volatile ones.',
      ],
      [
        `SELECT evil.run($q$SELECT set_config('gatehouse.actor','bob',true)$q$)`,
        'The function evil.run() is not allowed in queries: it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
      ],
      [
        `SELECT id FROM tickets WHERE evil.run('SELECT 1') IS NULL`,
        'The function evil.run() is not allowed in queries: it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
      ],
      [
        `SELECT "evil"."as_owner"()`,
        'The function evil.as_owner() is not allowed in queries: it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
      ],
      // search path: public.lower(varchar) beats pg_catalog.lower(text) for a varchar argument
      [
        "SELECT lower('X'::varchar)",
        'The function public.lower() is not allowed in queries: it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
      ],
      [
        'SELECT title FROM tickets ORDER BY lower(title)',
        'The function public.lower() is not allowed in queries: it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
      ],
      [
        "SELECT 'a' ~~~ 'b'",
        'The operator ~~~ is not allowed in queries: it calls evil.cmp(), and it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
      ],
      [
        "SELECT 'a' OPERATOR(public.~~~) 'b'",
        'The operator public.~~~ is not allowed in queries: it calls evil.cmp(), and it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
      ],
      [
        "SELECT 'x'::checked_text",
        'The type checked_text is not allowed in queries: converting to it calls evil.valid(), and it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
      ],
      [
        "SELECT CAST('x' AS public.checked_text)",
        'The type public.checked_text is not allowed in queries: converting to it calls evil.valid(), and it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
      ],
      ['SELECT pg_temp.anything()', 'The function pg_temp.anything() does not exist in any schema this query can use.'],
      ['SELECT 1 OPERATOR(pg_temp.=) 1', 'The operator pg_temp.= does not exist in any schema this query can use.'],
      ['SELECT 1 FROM tickets TABLESAMPLE evil_method(10)', 'The function evil_method() does not exist in any schema this query can use.'],
    ];
    for (const [sql, message] of cases) {
      expect(await refused('carol', sql), sql).toEqual({ reason: 'postgres.function_denied', message });
    }
    // A database-defined function named like a built-in makes the unqualified name refusable
    // (whichever one the server would pick); the built-in stays callable by its qualified name.
    expect(await rows('carol', "SELECT pg_catalog.lower('X')")).toEqual([['x']]);
  });

  it('a function over a whole row is refused through t.f as well as f(t)', async () => {
    // crm_open has no deny-list: fullname(customers) is refused because it is defined in the
    // database (and the column GRANTs would refuse the whole row anyway).
    const viaColumn = await call('carol', 'query', { sql: 'SELECT c.fullname FROM customers c' }, 'crm_open');
    expect(viaColumn.error).toMatchObject({ code: -32602, data: { reason: 'postgres.function_denied' } });
    expect(viaColumn.error?.message).toBe(
      '"x.fullname" may call the function public.fullname(), which is not allowed in queries: it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
    );
    const viaCall = await call('carol', 'query', { sql: 'SELECT fullname(c) FROM customers c' }, 'crm_open');
    expect(viaCall.error?.data?.reason).toBe('postgres.function_denied');
  });

  it('ordinary read queries still work', async () => {
    const ok = [
      "SELECT count(*), upper('abc'), initcap('abc'), coalesce(NULL, 1), nullif(1, 2), greatest(1, 2), length('abc') FROM tickets",
      "SELECT now() > '2020-01-01'::timestamptz, date_trunc('day', now()), extract(year FROM now()), current_date, clock_timestamp() IS NOT NULL, random() < 2",
      "SELECT '{\"a\": {\"b\": 1}}'::jsonb -> 'a' ->> 'b', jsonb_build_object('k', 1) @> '{\"k\": 1}', to_jsonb(ARRAY[1, 2]), jsonb_path_query_first('{\"a\": 2}', '$.a')",
      "SELECT string_agg(title, ', ' ORDER BY id), array_agg(DISTINCT status) FROM tickets",
      "SELECT id FROM tickets WHERE title ILIKE '%invoice%' OR title LIKE 'C%' OR title SIMILAR TO '%(CSV|VAT)%' OR title ~* 'reset'",
      "SELECT id::text, '42'::int + 1 FROM tickets UNION ALL SELECT 'x', 1 LIMIT 1",
      "SELECT CAST('1.5' AS numeric), 'tickets'::regclass::text, 'lower(text)'::regprocedure::text, '1 day'::interval",
      'SELECT id, row_number() OVER (PARTITION BY status ORDER BY id DESC), lag(id) OVER w FROM tickets WINDOW w AS (ORDER BY id)',
      'SELECT status, count(*) FROM tickets GROUP BY status HAVING count(*) > 0 ORDER BY 1',
      'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT sum(n) FROM r',
      'SELECT t.id, a.note FROM tickets t LEFT JOIN LATERAL (SELECT note FROM annotations WHERE ticket_id = t.id LIMIT 1) a ON true',
      'SELECT id FROM tickets WHERE id BETWEEN 100 AND 200 AND id IN (101, 102, 103, 104) AND id <> 0 AND status IS DISTINCT FROM NULL',
      "SELECT CASE status WHEN 'open' THEN 1 ELSE 0 END FROM tickets UNION SELECT 2 EXCEPT SELECT 3",
      'SELECT DISTINCT ON (status) status, id FROM tickets ORDER BY status, id',
      "SELECT * FROM xmltable('/r/i' PASSING ('<r><i>1</i></r>'::xml) COLUMNS v int PATH '.')",
      'SELECT count(*) FROM tickets TABLESAMPLE bernoulli (100) REPEATABLE (1)',
      "SELECT g, pg_catalog.lower('X'), btrim(' y ') FROM generate_series(1, 3) AS g",
      "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' LIMIT 1",
      "SELECT current_setting('gatehouse.actor'), gatehouse.actor(), current_user <> session_user",
      "SELECT pg_size_pretty(pg_total_relation_size('tickets')), pg_is_in_recovery()",
      'SELECT id FROM tickets WHERE id = ANY ($1::int[])',
    ];
    for (const sql of ok) await rows('carol', sql, sql.includes('$1') ? ['{101,102}'] : undefined);
    expect(await rows('alice', "SELECT gatehouse.actor(), current_setting('gatehouse.actor')")).toEqual([['alice', 'alice']]);
  });

  it('refuses NUL characters in the SQL and in parameters', async () => {
    const sql = await call('alice', 'query', { sql: 'SELECT 1\u0000; DELETE FROM tickets' });
    expect(sql.error).toMatchObject({
      code: -32602,
      message: 'The SQL contains a NUL character, which PostgreSQL cannot take.',
      data: { reason: 'postgres.nul_byte' },
    });
    const param = await call('alice', 'query', { sql: 'SELECT $1::text', params: ['a\u0000b'] });
    expect(param.error).toMatchObject({
      code: -32602,
      message: 'Parameter $1 contains a NUL character, which PostgreSQL cannot take.',
      data: { reason: 'postgres.nul_byte' },
    });
    expect(await db.sql('SELECT count(*)::int AS n FROM tickets')).toEqual([{ n: 4 }]);
  });
});

describe('the actor is bound to the login role', () => {
  it('RLS keeps answering for alice on her leased role whatever the session sets, even with set_config reachable', async () => {
    await rows('alice', 'SELECT 1');
    const lease = leaseOf('alice');
    const direct = new Client({ ...db.info, database: db.database, user: lease.resource, password: lease.credential.password });
    await direct.connect();
    try {
      // The same session shape as a call (a transaction with the setting), but with the guard out of the way.
      await direct.query('BEGIN READ ONLY');
      await direct.query("SELECT set_config('gatehouse.actor', 'bob', true)");
      expect((await direct.query('SELECT id FROM tickets ORDER BY id')).rows.map((r) => [r.id])).toEqual(ALICE_TICKETS);
      await direct.query('SET LOCAL ROLE crm_reader');
      expect((await direct.query('SELECT id FROM tickets ORDER BY id')).rows.map((r) => [r.id])).toEqual(ALICE_TICKETS);
      expect((await direct.query("SELECT gatehouse.actor() AS a, current_setting('gatehouse.actor') AS s")).rows).toEqual([{ a: 'alice', s: 'bob' }]);
      await direct.query('ROLLBACK');
      await direct.query("SET gatehouse.actor = 'bob'");
      expect((await direct.query('SELECT id FROM tickets ORDER BY id')).rows.map((r) => [r.id])).toEqual(ALICE_TICKETS);
      // The mapping is the admin's alone.
      await expect(direct.query("UPDATE gatehouse.lease_actors SET actor = 'bob'")).rejects.toMatchObject({ code: '42501' });
      await expect(
        direct.query(`INSERT INTO gatehouse.lease_actors (role, actor, lease_id, expires_at) VALUES ('x', 'bob', 'x', now())`),
      ).rejects.toMatchObject({ code: '42501' });
      await expect(direct.query('SELECT * FROM gatehouse.lease_actors')).rejects.toMatchObject({ code: '42501' });
      await expect(direct.query('CREATE FUNCTION gatehouse.actor(int) RETURNS text LANGUAGE sql AS $$ SELECT text $$')).rejects.toMatchObject({
        code: '42501',
      });
    } finally {
      await direct.end();
    }
    // A session that did not log in as a leased role has no actor: the policy shows it nothing.
    expect(await db.sql('SELECT gatehouse.actor() AS a, (SELECT count(*)::int FROM tickets WHERE assignee = (SELECT gatehouse.actor())) AS n')).toEqual([
      { a: null, n: 0 },
    ]);
    const mapping = await db.sql<{ role: string; actor: string }>('SELECT role, actor FROM gatehouse.lease_actors WHERE role = $1', [lease.resource]);
    expect(mapping).toEqual([{ role: lease.resource, actor: 'alice' }]);
  });
});

describe('nothing a call does outlives it on the pooled connection', () => {
  it('an advisory lock taken by a declared statement is released when the call ends', async () => {
    const res = await call('carol', 'take_lock', {});
    expect(res.error).toBeUndefined();
    expect(res.result?.isError).not.toBe(true);
    let held = await advisoryLocksOfLeasedRoles();
    for (let i = 0; i < 50 && held > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      held = await advisoryLocksOfLeasedRoles();
    }
    expect(held).toBe(0);
  });

  it('settings, a changed role and locks from an allowed function are reset; SQL-level prepared statements close the connection', async () => {
    expect(await rows('carol', 'SELECT public.grab_state()')).toEqual([['grabbed']]);
    for (let i = 0; i < 5; i++) {
      expect(await rows('carol', "SELECT coalesce(current_setting('app.tenant', true), ''), current_user = session_user, gatehouse.actor()")).toEqual([
        ['', true, 'carol'],
      ]);
    }
    expect(await advisoryLocksOfLeasedRoles()).toBe(0);

    const before = gw.logs.length;
    expect(await rows('carol', 'SELECT public.leave_prepared()')).toEqual([['prepared']]);
    // The connection whose prepared context statement was replaced is closed, not reused.
    for (let i = 0; i < 5; i++) expect(await rows('carol', 'SELECT 1 AS one')).toEqual([[1]]);
    const warned = gw.logs.slice(before).filter((line) => line.includes('a leased connection kept session state after a call; closing it'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('1 prepared statement(s)');
  });
});

describe('column deny-lists and the GRANTs behind them', () => {
  it('refuses the known bypasses: positional aliases, whole rows, t.f, NATURAL joins, statistics, table dumps', async () => {
    const cases: [string, string][] = [
      ['SELECT x.c5 FROM customers AS x(c1, c2, c3, c4, c5)', 'postgres.column_denied'],
      ['SELECT j.e FROM (customers c JOIN tickets t ON t.customer_id = c.id) AS j(a, b, c, d, e)', 'postgres.column_denied'],
      ['SELECT c.row_to_json FROM customers c', 'postgres.column_denied'],
      ['SELECT c.to_jsonb FROM customers c', 'postgres.column_denied'],
      ['SELECT row_to_json(c) FROM customers c', 'postgres.column_denied'],
      ['SELECT to_jsonb(customers) FROM customers', 'postgres.column_denied'],
      ['SELECT (SELECT c FROM customers c LIMIT 1)::text', 'postgres.column_denied'],
      ['SELECT c.id FROM customers c NATURAL JOIN (SELECT 1 AS id) s', 'postgres.column_denied'],
      ["SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'customers'", 'postgres.column_denied'],
      ['SELECT * FROM pg_stats_ext', 'postgres.column_denied'],
      ["SELECT table_to_xml('customers', true, false, '')", 'postgres.function_denied'],
      ["SELECT query_to_xml('SELECT ssn FROM customers', true, false, '')", 'postgres.function_denied'],
      ['SELECT lower(ssn) FROM customers', 'postgres.column_denied'],
    ];
    for (const [sql, reason] of cases) expect((await refused('carol', sql)).reason, sql).toBe(reason);
    expect(await rows('carol', 'SELECT c.id, c.name FROM customers c ORDER BY c.id LIMIT 1')).toEqual([[1, 'Ada Lovelace']]);
  });

  it('without a deny-list, the column GRANTs of the example refuse the same reads', async () => {
    for (const sql of [
      'SELECT ssn FROM customers',
      'SELECT row_to_json(c) FROM customers c',
      'SELECT c.to_jsonb FROM customers c',
      'SELECT x.c5 FROM customers AS x(c1, c2, c3, c4, c5)',
    ]) {
      const res = await call('carol', 'query', { sql }, 'crm_open');
      expect(res.result?.isError, sql).toBe(true);
      expect(res.result?.content[0]?.text, sql).toBe('PostgreSQL error 42501: permission denied for table customers');
    }
    const stats = await call('carol', 'query', { sql: "SELECT count(*) FROM pg_stats WHERE tablename = 'customers' AND attname = 'ssn'" }, 'crm_open');
    expect(JSON.parse(stats.result?.content[0]?.text ?? '{}').rows).toEqual([['0']]);
  });
});
