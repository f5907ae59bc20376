import { beforeAll, describe, expect, it } from 'vitest';
import { ColumnClearance } from './classified-columns.js';
import { compileDenyList, guardQuery, loadSqlParser, QueryRefusedError } from './sql-guard.js';

beforeAll(async () => {
  await loadSqlParser();
});

const columns = new ColumnClearance(
  compileDenyList({ customers: ['card_number'] }),
  { 'employees.salary': 'confidential', 'hr.reviews.score': 'secret', ssn: 'confidential' },
  { 'employees.bonus': 'confidential', 'employees.salary': 'internal' },
);

function refusal(sql: string, clearance: Parameters<ColumnClearance['denyListFor']>[0]): { reason: string; message: string } {
  try {
    guardQuery(sql, columns.denyListFor(clearance));
  } catch (error) {
    expect(error).toBeInstanceOf(QueryRefusedError);
    return { reason: (error as QueryRefusedError).reason, message: (error as Error).message };
  }
  throw new Error(`expected refusal of: ${sql}`);
}

describe('ColumnClearance: classified columns are unreadable below their clearance, in any spelling', () => {
  // Every way of getting at the value of employees.salary without selecting it by its own name.
  const salaryVariants = [
    'SELECT salary FROM employees',
    'SELECT salary AS pay FROM employees',
    'SELECT e.salary FROM employees e',
    'SELECT "salary" FROM employees',
    'SELECT SALARY FROM EMPLOYEES',
    'SELECT salary + 0 AS x FROM employees',
    'SELECT salary::text FROM public.employees',
    'SELECT id FROM employees WHERE salary > 100000',
    'SELECT id FROM employees ORDER BY salary DESC LIMIT 1',
    'SELECT count(*) FROM employees GROUP BY salary',
    'SELECT (SELECT max(salary) FROM employees) AS m',
    'WITH t AS (SELECT salary FROM employees) SELECT * FROM t',
    'SELECT 1 AS x UNION ALL SELECT salary FROM employees',
    'SELECT id FROM employees WHERE id IN (SELECT id FROM employees WHERE salary BETWEEN 1 AND 2)',
  ];

  it.each(salaryVariants)('refuses %s for a caller cleared for internal, naming the column and its level', (sql) => {
    const r = refusal(sql, 'internal');
    expect(r.reason).toBe('postgres.column_above_clearance');
    expect(r.message).toContain('"salary"');
    expect(r.message).toContain('classified confidential, above your clearance');
  });

  it.each(salaryVariants)('lets a caller cleared for confidential run %s', (sql) => {
    expect(guardQuery(sql, columns.denyListFor('confidential')).text.length).toBeGreaterThan(0);
  });

  it('refuses the shapes that read a whole row without naming the column', () => {
    const shapes = [
      'SELECT * FROM employees',
      'SELECT e.* FROM employees e',
      'SELECT e FROM employees e',
      'SELECT row_to_json(e) FROM employees e',
      'SELECT to_jsonb(employees) FROM employees',
      'SELECT x.c FROM employees AS x(a, b, c)',
      'SELECT id FROM employees NATURAL JOIN departments',
    ];
    for (const sql of shapes) expect(refusal(sql, 'internal').reason, sql).toBe('postgres.column_above_clearance');
    // The statistics views publish column values (most common values, histograms) of every column.
    expect(refusal('SELECT most_common_vals FROM pg_stats', 'internal').message).toContain('pg_stats publishes column contents');
    const onlyClassified = new ColumnClearance(compileDenyList({}), { 'employees.salary': 'secret' });
    expect(() => guardQuery('SELECT most_common_vals FROM pg_stats', onlyClassified.denyListFor('internal'))).toThrow(/classified above your clearance/);
  });

  it('leaves the rest of a classified table readable', () => {
    expect(guardQuery('SELECT id, name FROM employees WHERE dept = $1', columns.denyListFor('internal')).maxParam).toBe(1);
    expect(guardQuery('SELECT count(*) FROM employees', columns.denyListFor('public')).text).toBe('SELECT count(*) FROM employees');
  });

  it('takes the strictest classification when the server and the tool both classify a column', () => {
    // The tool says internal, the server says confidential: confidential holds.
    expect(refusal('SELECT salary FROM employees', 'internal').reason).toBe('postgres.column_above_clearance');
    expect(refusal('SELECT bonus FROM employees', 'internal').message).toContain('classified confidential');
  });

  it('schema-qualified keys apply to that schema and to unqualified names (search_path could resolve them there)', () => {
    expect(refusal('SELECT score FROM hr.reviews', 'confidential').message).toContain('classified secret');
    expect(refusal('SELECT score FROM reviews', 'confidential').reason).toBe('postgres.column_above_clearance');
    expect(guardQuery('SELECT score FROM sales.reviews', columns.denyListFor('confidential')).text).toContain('sales.reviews');
    expect(guardQuery('SELECT score FROM hr.reviews', columns.denyListFor('secret')).text).toContain('hr.reviews');
  });

  it('a bare column key applies to every table', () => {
    expect(refusal('SELECT ssn FROM people', 'internal').reason).toBe('postgres.column_above_clearance');
    expect(refusal('SELECT p.ssn AS x FROM applicants p', 'public').reason).toBe('postgres.column_above_clearance');
    expect(refusal('SELECT * FROM people', 'internal').reason).toBe('postgres.column_above_clearance');
    expect(guardQuery('SELECT ssn FROM people', columns.denyListFor('confidential')).text).toContain('ssn');
  });

  it('without a known clearance, the lowest is assumed', () => {
    expect(refusal('SELECT salary FROM employees', undefined).reason).toBe('postgres.column_above_clearance');
  });

  it('keeps the configured deny-list, with its own reason, at every clearance', () => {
    for (const level of ['public', 'internal', 'confidential', 'secret'] as const) {
      try {
        guardQuery('SELECT card_number FROM customers', columns.denyListFor(level));
        throw new Error('not refused');
      } catch (error) {
        expect((error as QueryRefusedError).reason).toBe('postgres.column_denied');
      }
    }
  });

  it('computes one deny-list per clearance', () => {
    expect(columns.denyListFor('internal')).toBe(columns.denyListFor('internal'));
    expect(columns.denyListFor('secret').entries).toHaveLength(1);
    expect(columns.any).toBe(true);
  });
});
