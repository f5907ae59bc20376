import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CatalogRef } from './catalog-check.js';
import { analyzeStatement, compileDenyList, guardQuery, loadSqlParser, QueryRefusedError } from './sql-guard.js';

beforeAll(async () => {
  await loadSqlParser();
});

const none = compileDenyList({});
const deny = compileDenyList({ customers: ['ssn', 'card_number'], 'billing.invoices': ['iban'] });

function refusal(sql: string, list = none): { reason: string; message: string } {
  try {
    guardQuery(sql, list);
  } catch (error) {
    expect(error).toBeInstanceOf(QueryRefusedError);
    return { reason: (error as QueryRefusedError).reason, message: (error as Error).message };
  }
  throw new Error(`expected refusal of: ${sql}`);
}

const IMPLICIT: CatalogRef[] = ['=', '<>', '<', '>', '<=', '>='].map((n) => ({ k: 'o', s: null, n }));

function refs(sql: string, list = none): CatalogRef[] {
  return guardQuery(sql, list).refs;
}

describe('guardQuery', () => {
  it('accepts single SELECTs, including CTEs, unions, VALUES and placeholders', () => {
    expect(guardQuery('SELECT id, title FROM tickets WHERE id = $1', none)).toEqual({
      text: 'SELECT id, title FROM tickets WHERE id = $1',
      maxParam: 1,
      refs: [{ k: 'o', s: null, n: '=' }, ...IMPLICIT.slice(1)],
    });
    expect(guardQuery('select 1;', none).text).toBe('select 1');
    expect(guardQuery('  WITH t AS (SELECT 1 AS x) SELECT x FROM t UNION ALL SELECT 2 ', none).text).toBe(
      'WITH t AS (SELECT 1 AS x) SELECT x FROM t UNION ALL SELECT 2',
    );
    expect(guardQuery('VALUES (1), (2)', none).maxParam).toBe(0);
    expect(guardQuery("SELECT 'ünïcødé' AS x, $2::int", none)).toMatchObject({ text: "SELECT 'ünïcødé' AS x, $2::int", maxParam: 2 });
    expect(guardQuery("SELECT current_setting('gatehouse.actor')", none).text).toContain('current_setting');
  });

  it('refuses several statements, however they are hidden', () => {
    expect(refusal('SELECT 1; DROP TABLE tickets').reason).toBe('postgres.multiple_statements');
    expect(refusal('SELECT 1; SELECT 2').message).toBe('Only a single SELECT statement is allowed; this SQL has 2 statements.');
    expect(refusal("SELECT 'a';\nDELETE FROM tickets -- '").reason).toBe('postgres.multiple_statements');
    expect(refusal('SELECT 1/*x*/;/*y*/UPDATE t SET a = 1').reason).toBe('postgres.multiple_statements');
  });

  it('refuses DML and DDL, including inside CTEs', () => {
    expect(refusal('DROP TABLE tickets')).toEqual({ reason: 'postgres.not_select', message: 'Only SELECT is allowed here; this is DROP (DDL).' });
    expect(refusal('CREATE TABLE x (a int)').reason).toBe('postgres.not_select');
    expect(refusal('ALTER TABLE tickets ADD COLUMN x int').reason).toBe('postgres.not_select');
    expect(refusal('DELETE FROM tickets').message).toBe('Only SELECT is allowed here; this is DELETE.');
    expect(refusal('UPDATE tickets SET title = 1').reason).toBe('postgres.not_select');
    expect(refusal('INSERT INTO tickets VALUES (1)').reason).toBe('postgres.not_select');
    expect(refusal('TRUNCATE tickets').reason).toBe('postgres.not_select');
    expect(refusal('SET ROLE postgres').message).toBe('Only SELECT is allowed here; this is SET.');
    expect(refusal('BEGIN').reason).toBe('postgres.not_select');
    expect(refusal('COPY tickets TO STDOUT').reason).toBe('postgres.not_select');
    expect(refusal('DO $$ BEGIN PERFORM 1; END $$').reason).toBe('postgres.not_select');
    expect(refusal('WITH d AS (DELETE FROM tickets RETURNING *) SELECT * FROM d').message).toBe('Only reading is allowed here; the query contains DELETE.');
    expect(refusal('WITH u AS (UPDATE tickets SET a = 1 RETURNING id) SELECT id FROM u').reason).toBe('postgres.not_select');
    expect(refusal('SELECT * INTO copy_of_tickets FROM tickets').reason).toBe('postgres.not_select');
    expect(refusal('EXPLAIN ANALYZE DELETE FROM tickets').reason).toBe('postgres.not_select');
  });

  it('refuses row locks, and built-ins known to run SQL text or change session state before any database is asked', () => {
    expect(refusal('SELECT * FROM tickets FOR UPDATE').reason).toBe('postgres.row_locks');
    expect(refusal('SELECT 1 FROM tickets FOR KEY SHARE').reason).toBe('postgres.row_locks');
    expect(refusal("SELECT set_config('gatehouse.actor', 'bob', true)")).toEqual({
      reason: 'postgres.function_denied',
      message: 'The function pg_catalog.set_config() is not allowed in queries: it changes session or transaction state.',
    });
    expect(refusal("SELECT id FROM tickets, LATERAL (SELECT pg_catalog.SET_CONFIG('gatehouse.actor','bob',true)) s").reason).toBe('postgres.function_denied');
    expect(refusal(`SELECT * FROM ts_stat($$SELECT to_tsvector(set_config('gatehouse.actor','bob',true))$$)`)).toEqual({
      reason: 'postgres.function_denied',
      message: 'The function pg_catalog.ts_stat() is not allowed in queries: it runs SQL given as text, which this check cannot see.',
    });
    expect(refusal("SELECT ts_rewrite('a'::tsquery, 'SELECT set_config(''gatehouse.actor'',''bob'',true)::tsquery, ''x''::tsquery')").reason).toBe(
      'postgres.function_denied',
    );
    expect(refusal("SELECT query_to_xml('delete from tickets', true, false, '')").reason).toBe('postgres.function_denied');
    expect(refusal("SELECT table_to_xml('customers', true, false, '')").message).toBe(
      'The function pg_catalog.table_to_xml() is not allowed in queries: it reads whole tables by name, past the column checks.',
    );
    expect(refusal('SELECT "pg_catalog"."pg_advisory_lock"(1)').reason).toBe('postgres.function_denied');
    expect(refusal('SELECT x FROM t ORDER BY pg_try_advisory_xact_lock(x)').reason).toBe('postgres.function_denied');
    expect(refusal("SELECT nextval('s')").reason).toBe('postgres.function_denied');
    expect(refusal('SELECT txid_current()').reason).toBe('postgres.function_denied');
    // Unicode-escaped identifiers are decoded by the parser before the check sees them.
    expect(refusal(String.raw`SELECT U&"\0073et_config"('a', 'b', true)`).reason).toBe('postgres.function_denied');
  });

  it('hands every other function to the catalog check, wherever it is called', () => {
    // Not refused by name here: the catalog decides (volatile, defined in the database, …).
    expect(refs("SELECT pg_read_file('/etc/passwd')")).toContainEqual({ k: 'f', s: null, n: 'pg_read_file' });
    expect(refs("SELECT dblink_exec('x', 'drop table t')")).toContainEqual({ k: 'f', s: null, n: 'dblink_exec' });
    expect(refs('SELECT evil.f(1)')).toContainEqual({ k: 'f', s: 'evil', n: 'f' });
    expect(refs('SELECT "Evil"."F"(1)')).toContainEqual({ k: 'f', s: 'Evil', n: 'F' });
    expect(refs('SELECT crm.evil.f(1)')).toContainEqual({ k: 'f', s: 'evil', n: 'f' });
    expect(refs('SELECT pg_temp.f()')).toContainEqual({ k: 'f', s: 'pg_temp', n: 'f' });
    expect(refs('SELECT 1 FROM t TABLESAMPLE system_rows(3)')).toContainEqual({ k: 'f', s: null, n: 'system_rows' });
    expect(refs('SELECT * FROM ROWS FROM (f(1), g(2)) AS r')).toEqual(
      expect.arrayContaining([
        { k: 'f', s: null, n: 'f' },
        { k: 'f', s: null, n: 'g' },
      ]),
    );
    expect(refs('SELECT x FROM t ORDER BY x USING OPERATOR(evil.<)')).toContainEqual({ k: 'o', s: 'evil', n: '<' });
    expect(refs('SELECT a OPERATOR(evil.+) b FROM t')).toContainEqual({ k: 'o', s: 'evil', n: '+' });
    expect(refs('SELECT a ### b FROM t')).toContainEqual({ k: 'o', s: null, n: '###' });
    expect(refs('SELECT a = ANY (SELECT b FROM u) FROM t')).toEqual(expect.arrayContaining(IMPLICIT));
    expect(refs("SELECT 'x'::evil.mytype")).toContainEqual({ k: 't', s: 'evil', n: 'mytype' });
    expect(refs("SELECT CAST('x' AS mydomain)")).toContainEqual({ k: 't', s: null, n: 'mydomain' });
    expect(refs("SELECT * FROM xmltable('/a' PASSING ('<a/>'::xml) COLUMNS c mytype PATH 'b')")).toContainEqual({ k: 't', s: null, n: 'mytype' });
    expect(refs('SELECT * FROM f() AS r(a mytype)')).toContainEqual({ k: 't', s: null, n: 'mytype' });
    // t.f is column f of t, or f(t).
    expect(refs('SELECT c.fullname FROM customers c')).toContainEqual({ k: 'a', s: null, n: 'fullname' });
    // The implicit comparisons are always checked.
    expect(refs('SELECT 1')).toEqual(IMPLICIT);
  });

  it('refuses NUL characters before parsing', () => {
    expect(refusal('SELECT 1\u0000; DROP TABLE tickets')).toEqual({
      reason: 'postgres.nul_byte',
      message: 'The SQL contains a NUL character, which PostgreSQL cannot take.',
    });
    expect(refusal("SELECT 'a\u0000b'").reason).toBe('postgres.nul_byte');
    expect(refusal('\u0000').reason).toBe('postgres.nul_byte');
  });

  it('refuses syntax it has not reviewed', () => {
    expect(refusal('VALUES (DEFAULT)')).toEqual({
      reason: 'postgres.unsupported_syntax',
      message: 'The query uses syntax this check does not support (SetToDefault).',
    });
  });

  it('refuses what does not parse, with the parser’s message', () => {
    const r = refusal('SELEC 1');
    expect(r.reason).toBe('postgres.syntax_error');
    expect(r.message).toMatch(/^The SQL does not parse: syntax error at or near "SELEC"/);
    expect(refusal('').reason).toBe('postgres.empty_query');
    expect(refusal('-- just a comment').reason).toBe('postgres.empty_query');
  });

  it('enforces column deny-lists conservatively', () => {
    expect(guardQuery('SELECT id, name FROM customers WHERE id = 1', deny).text).toContain('customers');
    expect(guardQuery('SELECT count(*) FROM customers', deny).text).toContain('count');
    expect(guardQuery('SELECT * FROM tickets', deny).text).toBe('SELECT * FROM tickets');
    expect(refusal('SELECT ssn FROM customers', deny)).toEqual({
      reason: 'postgres.column_denied',
      message: 'The column "ssn" of customers may not be read through this tool.',
    });
    expect(refusal('SELECT c."SSN" FROM public.customers c', deny).reason).toBe('postgres.column_denied');
    expect(refusal("SELECT id FROM customers WHERE ssn LIKE '1%'", deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT id FROM customers ORDER BY card_number', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT * FROM customers', deny).message).toBe('customers has columns that may not be read; name the columns you need instead of using *.');
    expect(refusal('SELECT c.* FROM customers c', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT x.* FROM (SELECT * FROM customers) x', deny).reason).toBe('postgres.column_denied');
    expect(refusal('TABLE customers', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT row_to_json(c) FROM customers c', deny).message).toBe(
      'Whole-row references to customers are not allowed (it has columns that may not be read); name the columns you need.',
    );
    expect(refusal('SELECT to_jsonb(customers) FROM customers', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT (c).ssn FROM customers c', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT a.id FROM customers a JOIN other b USING (ssn)', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT iban FROM billing.invoices', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT iban FROM invoices', deny).reason).toBe('postgres.column_denied');
    expect(guardQuery('SELECT iban FROM other_schema.invoices', deny).text).toContain('iban');
  });

  it('column deny-lists: refuses positional aliases, NATURAL joins and the statistics views; t.f must be a column', () => {
    expect(refusal('SELECT x.c5 FROM customers AS x(c1, c2, c3, c4, c5)', deny)).toEqual({
      reason: 'postgres.column_denied',
      message: 'Column aliases that rename columns (x(a, b, …)) are not allowed in a query that reads customers, which has columns that may not be read.',
    });
    expect(refusal('SELECT j.e FROM (customers c JOIN orders o USING (id)) AS j(a, b, c, d, e)', deny).reason).toBe('postgres.column_denied');
    expect(refusal('WITH w(a, b) AS (SELECT id, name FROM customers) SELECT a FROM w', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT c.id FROM customers c NATURAL JOIN leaked', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT most_common_vals FROM pg_stats', deny).message).toBe(
      'pg_stats publishes column contents; it may not be read through this tool while columns are deny-listed.',
    );
    expect(refusal('SELECT * FROM pg_catalog.pg_stats_ext', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT 1 FROM PG_STATISTIC', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT (SELECT c FROM customers c LIMIT 1)::text', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT (c).id FROM customers c', deny).reason).toBe('postgres.column_denied');
    // Without a deny-list, the statistics views are the database's business (and its GRANTs').
    expect(guardQuery('SELECT most_common_vals FROM pg_stats', none).text).toContain('pg_stats');
    // t.f on a deny-listed table: the catalog must find column f (else it is f(t) on the whole row).
    expect(refs('SELECT c.id, c.row_to_json FROM customers c', deny)).toEqual(
      expect.arrayContaining([
        { k: 'c', s: null, r: 'customers', n: 'id' },
        { k: 'c', s: null, r: 'customers', n: 'row_to_json' },
      ]),
    );
    expect(refs('SELECT public.customers.to_jsonb FROM public.customers', deny)).toContainEqual({ k: 'c', s: 'public', r: 'customers', n: 'to_jsonb' });
    expect(refs('SELECT t.id FROM tickets t', deny).filter((r) => r.k === 'c')).toEqual([]);
  });
});

/**
 * A small grammar of expressions: calls of a target function at random depths, in random
 * syntactic positions, spelled in random ways. Whatever the shape, the target reaches the
 * catalog check (or is refused outright by name).
 */
describe('guardQuery: no call escapes the check (property)', () => {
  const targets = ['ts_stat', 'query_to_xml', 'evil_fn', 'lo_import', 'dblink', 'pg_read_file', 'Mixed_Case'];
  const spell = (name: string) =>
    fc.constantFrom(
      { sql: name, folded: name.toLowerCase(), schema: null as string | null },
      { sql: `"${name}"`, folded: name, schema: null },
      { sql: name.toUpperCase(), folded: name.toLowerCase(), schema: null },
      { sql: `pg_catalog.${name}`, folded: name.toLowerCase(), schema: 'pg_catalog' },
      { sql: `"evil"."${name}"`, folded: name, schema: 'evil' },
      { sql: `U&"${[...name].map((c) => `\\${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`, folded: name, schema: null },
    );
  const leaf = fc.constantFrom('1', "'x'", 'a', 't.b', '$1', 'NULL', 'now()', 'lower(a)');
  const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      tie('e').map((e) => `lower(${e})`),
      fc.tuple(tie('e'), tie('e')).map(([a, b]) => `coalesce(${a}, ${b})`),
      fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a} || ${b})`),
      tie('e').map((e) => `CASE WHEN ${e} IS NULL THEN 1 ELSE 2 END`),
      tie('e').map((e) => `(SELECT ${e})`),
      tie('e').map((e) => `CAST(${e} AS text)`),
      tie('e').map((e) => `ARRAY[${e}]`),
      tie('e').map((e) => `${e} IN (1, 2)`),
    ),
  })).e;
  const contexts = [
    (x: string) => `SELECT ${x}`,
    (x: string) => `SELECT a FROM t WHERE ${x} IS NOT NULL`,
    (x: string) => `SELECT a FROM t ORDER BY ${x}`,
    (x: string) => `SELECT a FROM t GROUP BY a HAVING count(${x}) > 0`,
    (x: string) => `WITH c AS (SELECT ${x} AS v) SELECT v FROM c`,
    (x: string) => `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE ${x} IS NULL) SELECT n FROM r`,
    (x: string) => `SELECT s.v FROM t, LATERAL (SELECT ${x} AS v) s`,
    (x: string) => `SELECT (${x})::int`,
    (x: string) => `VALUES (${x})`,
    (x: string) => `SELECT * FROM ROWS FROM (generate_series(1, 2), unnest(ARRAY[${x}])) AS r`,
    (x: string) => `SELECT 1 FROM t TABLESAMPLE bernoulli (${x})`,
    (x: string) => `SELECT count(*) FILTER (WHERE ${x} IS NULL) FROM t`,
    (x: string) => `SELECT row_number() OVER (PARTITION BY ${x} ORDER BY a) FROM t`,
    (x: string) => `SELECT xmlelement(name a, ${x})`,
    (x: string) => `SELECT * FROM xmltable('/a' PASSING ${x} COLUMNS c int PATH 'b')`,
    (x: string) => `SELECT 1 FROM t JOIN u ON ${x} IS NULL`,
    (x: string) => `SELECT 1 UNION SELECT ${x}`,
    (x: string) => `SELECT greatest(${x}, 1)`,
    (x: string) => `SELECT (${x})[1]`,
    (x: string) => `SELECT 1 LIMIT ${x}`,
    (x: string) => `SELECT DISTINCT ON (${x}) a FROM t`,
    (x: string) => `SELECT 1 WHERE EXISTS (SELECT 1 FROM t WHERE a = ANY (SELECT ${x}))`,
    (x: string) => `SELECT JSON_OBJECT('k': ${x})`,
    (x: string) => `SELECT ${x} COLLATE "C"`,
    (x: string) => `SELECT ${x} AT TIME ZONE 'UTC'`,
    (x: string) => `SELECT lower(s => ${x})`,
    (x: string) => `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ${x}) FROM t`,
    (x: string) => `SELECT a FROM t WHERE (a, b) < (${x}, 1)`,
    (x: string) => `SELECT * FROM (SELECT ${x}) AS q(v)`,
  ];

  it('every call of the target, at any depth and in any position, is in refs or refused by name', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...targets).chain((t) => spell(t)),
        expr,
        expr,
        fc.constantFrom(...contexts),
        (target, before, after, context) => {
          const call = `${target.sql}(${before})`;
          const sql = context(`coalesce(${call}, ${after})`);
          let guarded;
          try {
            guarded = guardQuery(sql, none);
          } catch (error) {
            expect(error).toBeInstanceOf(QueryRefusedError);
            // Refused outright: only by name, for a built-in known to be unsafe.
            expect((error as QueryRefusedError).reason, sql).toBe('postgres.function_denied');
            return;
          }
          expect(guarded.refs, sql).toContainEqual({ k: 'f', s: target.schema, n: target.folded });
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('analyzeStatement', () => {
  it('classifies declared statements and checks placeholders', () => {
    expect(analyzeStatement('INSERT INTO notes (record_id, note) VALUES ($1, $2)')).toEqual({
      kind: 'insert',
      text: 'INSERT INTO notes (record_id, note) VALUES ($1, $2)',
      params: 2,
      overwrites: false,
    });
    expect(analyzeStatement('UPDATE tickets SET note = $2 WHERE id = $1;').overwrites).toBe(true);
    expect(analyzeStatement('DELETE FROM tickets WHERE id = $1').overwrites).toBe(true);
    expect(analyzeStatement('INSERT INTO t (id, v) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = excluded.v').overwrites).toBe(true);
    expect(analyzeStatement('INSERT INTO t (id) VALUES ($1) ON CONFLICT DO NOTHING').overwrites).toBe(false);
    expect(analyzeStatement('SELECT * FROM t WHERE id = $1')).toMatchObject({ kind: 'select', params: 1, overwrites: false });
    expect(() => analyzeStatement('SELECT 1; SELECT 2')).toThrow('must be exactly one statement (found 2)');
    expect(() => analyzeStatement('DROP TABLE t')).toThrow('must be SELECT, INSERT, UPDATE, DELETE or MERGE (found DROP (DDL))');
    expect(() => analyzeStatement('SELECT $1, $3')).toThrow('placeholders must be $1..$2 without gaps ($2 is missing)');
    expect(() => analyzeStatement('SELECT 1\u0000; DROP TABLE t')).toThrow('contains a NUL character');
  });
});
