import { beforeAll, describe, expect, it } from 'vitest';
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

describe('guardQuery', () => {
  it('accepts single SELECTs, including CTEs, unions, VALUES and placeholders', () => {
    expect(guardQuery('SELECT id, title FROM tickets WHERE id = $1', none)).toEqual({ text: 'SELECT id, title FROM tickets WHERE id = $1', maxParam: 1 });
    expect(guardQuery('select 1;', none).text).toBe('select 1');
    expect(guardQuery('  WITH t AS (SELECT 1 AS x) SELECT x FROM t UNION ALL SELECT 2 ', none).text).toBe('WITH t AS (SELECT 1 AS x) SELECT x FROM t UNION ALL SELECT 2');
    expect(guardQuery('VALUES (1), (2)', none).maxParam).toBe(0);
    expect(guardQuery("SELECT 'ünïcødé' AS x, $2::int", none)).toEqual({ text: "SELECT 'ünïcødé' AS x, $2::int", maxParam: 2 });
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
    expect(refusal("SET ROLE postgres").message).toBe('Only SELECT is allowed here; this is SET.');
    expect(refusal('BEGIN').reason).toBe('postgres.not_select');
    expect(refusal('COPY tickets TO STDOUT').reason).toBe('postgres.not_select');
    expect(refusal("DO $$ BEGIN PERFORM 1; END $$").reason).toBe('postgres.not_select');
    expect(refusal('WITH d AS (DELETE FROM tickets RETURNING *) SELECT * FROM d').message).toBe('Only reading is allowed here; the query contains DELETE.');
    expect(refusal('WITH u AS (UPDATE tickets SET a = 1 RETURNING id) SELECT id FROM u').reason).toBe('postgres.not_select');
    expect(refusal('SELECT * INTO copy_of_tickets FROM tickets').reason).toBe('postgres.not_select');
    expect(refusal('EXPLAIN ANALYZE DELETE FROM tickets').reason).toBe('postgres.not_select');
  });

  it('refuses row locks and functions that would defeat the guard', () => {
    expect(refusal('SELECT * FROM tickets FOR UPDATE').reason).toBe('postgres.row_locks');
    expect(refusal("SELECT set_config('gatehouse.actor', 'bob', true)")).toEqual({ reason: 'postgres.function_denied', message: 'The function set_config() is not allowed in queries.' });
    expect(refusal("SELECT id FROM tickets, LATERAL (SELECT pg_catalog.SET_CONFIG('gatehouse.actor','bob',true)) s").reason).toBe('postgres.function_denied');
    expect(refusal("SELECT query_to_xml('delete from tickets', true, false, '')").reason).toBe('postgres.function_denied');
    expect(refusal("SELECT pg_read_file('/etc/passwd')").reason).toBe('postgres.function_denied');
    expect(refusal('SELECT pg_advisory_lock(1)').reason).toBe('postgres.function_denied');
    expect(refusal("SELECT dblink_exec('x', 'drop table t')").reason).toBe('postgres.function_denied');
    expect(refusal("SELECT lo_import('/etc/passwd')").reason).toBe('postgres.function_denied');
    expect(refusal("SELECT nextval('s')").reason).toBe('postgres.function_denied');
    expect(refusal('SELECT pg_terminate_backend(1)').reason).toBe('postgres.function_denied');
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
    expect(refusal('SELECT ssn FROM customers', deny)).toEqual({ reason: 'postgres.column_denied', message: 'The column "ssn" of customers may not be read through this tool.' });
    expect(refusal('SELECT c."SSN" FROM public.customers c', deny).reason).toBe('postgres.column_denied');
    expect(refusal("SELECT id FROM customers WHERE ssn LIKE '1%'", deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT id FROM customers ORDER BY card_number', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT * FROM customers', deny).message).toBe('customers has columns that may not be read; name the columns you need instead of using *.');
    expect(refusal('SELECT c.* FROM customers c', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT x.* FROM (SELECT * FROM customers) x', deny).reason).toBe('postgres.column_denied');
    expect(refusal('TABLE customers', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT row_to_json(c) FROM customers c', deny).message).toBe('Whole-row references to customers are not allowed (it has columns that may not be read); name the columns you need.');
    expect(refusal('SELECT to_jsonb(customers) FROM customers', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT (c).ssn FROM customers c', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT a.id FROM customers a JOIN other b USING (ssn)', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT iban FROM billing.invoices', deny).reason).toBe('postgres.column_denied');
    expect(refusal('SELECT iban FROM invoices', deny).reason).toBe('postgres.column_denied');
    expect(guardQuery('SELECT iban FROM other_schema.invoices', deny).text).toContain('iban');
  });
});

describe('analyzeStatement', () => {
  it('classifies declared statements and checks placeholders', () => {
    expect(analyzeStatement('INSERT INTO notes (record_id, note) VALUES ($1, $2)')).toEqual({ kind: 'insert', text: 'INSERT INTO notes (record_id, note) VALUES ($1, $2)', params: 2, overwrites: false });
    expect(analyzeStatement('UPDATE tickets SET note = $2 WHERE id = $1;').overwrites).toBe(true);
    expect(analyzeStatement('DELETE FROM tickets WHERE id = $1').overwrites).toBe(true);
    expect(analyzeStatement('INSERT INTO t (id, v) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = excluded.v').overwrites).toBe(true);
    expect(analyzeStatement('INSERT INTO t (id) VALUES ($1) ON CONFLICT DO NOTHING').overwrites).toBe(false);
    expect(analyzeStatement('SELECT * FROM t WHERE id = $1')).toMatchObject({ kind: 'select', params: 1, overwrites: false });
    expect(() => analyzeStatement('SELECT 1; SELECT 2')).toThrow('must be exactly one statement (found 2)');
    expect(() => analyzeStatement('DROP TABLE t')).toThrow('must be SELECT, INSERT, UPDATE, DELETE or MERGE (found DROP (DDL))');
    expect(() => analyzeStatement('SELECT $1, $3')).toThrow('placeholders must be $1..$2 without gaps ($2 is missing)');
  });
});
