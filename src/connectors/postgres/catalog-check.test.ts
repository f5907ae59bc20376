import { describe, expect, it } from 'vitest';
import { BUILTIN_DENIED, catalogCheckSql, catalogRefusal, VOLATILE_ALLOWED, type CatalogRef } from './catalog-check.js';
import { QueryRefusedError } from './query-refused.js';

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const verdict = (i: number, why: string, qname: string) => `invalid input syntax for type integer: "gatehouse-guard:${i}:${why}:${hex(qname)}"`;

const refs: CatalogRef[] = [
  { k: 'f', s: null, n: 'lower' },
  { k: 'f', s: 'evil', n: 'f' },
  { k: 'o', s: null, n: '=' },
  { k: 't', s: null, n: 'mydomain' },
  { k: 'a', s: null, n: 'fullname' },
  { k: 'c', s: null, r: 'customers', n: 'row_to_json' },
  { k: 'f', s: 'pg_temp', n: 'x' },
  { k: 'o', s: 'evil', n: '+' },
];

function refusal(message: string): { reason: string; message: string } {
  const error = catalogRefusal(message, refs);
  expect(error).toBeInstanceOf(QueryRefusedError);
  return { reason: (error as QueryRefusedError).reason, message: (error as Error).message };
}

describe('catalogRefusal', () => {
  it('turns the check’s verdict into a refusal naming the function and why', () => {
    expect(refusal(verdict(1, 'user_defined', 'evil.f'))).toEqual({
      reason: 'postgres.function_denied',
      message:
        'The function evil.f() is not allowed in queries: it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
    });
    expect(refusal(verdict(0, 'volatile', 'pg_catalog.pg_read_file')).message).toBe(
      'The function pg_catalog.pg_read_file() is not allowed in queries: it is VOLATILE (it may change state); queries may call immutable and stable functions and a few harmless volatile ones.',
    );
    expect(refusal(verdict(0, 'denied', 'pg_catalog.ts_stat')).message).toBe(
      'The function pg_catalog.ts_stat() is not allowed in queries: it runs SQL given as text, which this check cannot see.',
    );
    expect(refusal(verdict(1, 'security_definer', 'evil.f')).message).toContain("it runs with its owner's privileges (SECURITY DEFINER)");
    expect(refusal(verdict(2, 'user_defined', 'public.texteq_evil')).message).toBe(
      'The operator = is not allowed in queries: it calls public.texteq_evil(), and it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions).',
    );
    expect(refusal(verdict(3, 'user_defined', 'public.check_it')).message).toMatch(
      /^The type mydomain is not allowed in queries: converting to it calls public\.check_it\(\)/,
    );
    expect(refusal(verdict(4, 'user_defined', 'public.fullname')).message).toMatch(
      /^"x\.fullname" may call the function public\.fullname\(\), which is not allowed in queries/,
    );
    expect(refusal(verdict(5, 'not_a_column', 'row_to_json'))).toEqual({
      reason: 'postgres.column_denied',
      message: '"row_to_json" is not a column of customers, which has columns that may not be read; "x.row_to_json" would apply a function to the whole row.',
    });
    expect(refusal(verdict(6, 'unknown', 'x')).message).toBe('The function pg_temp.x() does not exist in any schema this query can use.');
    expect(refusal(verdict(7, 'unknown', '+')).message).toBe('The operator evil.+ does not exist in any schema this query can use.');
  });

  it('ignores errors that are not its verdict, and never echoes raw error text', () => {
    expect(catalogRefusal('canceling statement due to statement timeout', refs)).toBeUndefined();
    expect(catalogRefusal('invalid input syntax for type integer: "gatehouse-guard:x"', refs)).toBeUndefined();
    // An index out of range still refuses (fail closed), with a generic message.
    expect(refusal(verdict(99, 'volatile', 'a.b'))).toEqual({
      reason: 'postgres.function_denied',
      message: 'The query calls a function that is not allowed in queries.',
    });
  });
});

describe('catalogCheckSql', () => {
  it('carries the allow-list, the denied and the harmless volatile built-ins as quoted literals', () => {
    const sql = catalogCheckSql(['public.fullname', "it's.odd"]);
    expect(sql).toContain("'gatehouse.actor', 'public.fullname', 'it''s.odd'");
    for (const name of BUILTIN_DENIED.keys()) expect(sql).toContain(`'${name}'`);
    for (const name of VOLATILE_ALLOWED) expect(sql).toContain(`'${name}'`);
    expect(sql).toContain('$1::pg_catalog.jsonb');
  });

  it('denies every built-in that runs SQL text, and allows no volatile function that changes state', () => {
    for (const name of [
      'ts_stat',
      'ts_rewrite',
      'query_to_xml',
      'query_to_xml_and_xmlschema',
      'cursor_to_xml',
      'table_to_xml',
      'schema_to_xml',
      'database_to_xml',
      'set_config',
      'pg_advisory_lock',
      'pg_try_advisory_xact_lock_shared',
      'txid_current',
      'pg_notify',
    ]) {
      expect(BUILTIN_DENIED.has(name), name).toBe(true);
    }
    for (const name of VOLATILE_ALLOWED) expect(BUILTIN_DENIED.has(name), name).toBe(false);
    expect([...VOLATILE_ALLOWED].filter((n) => /advisory|config|notify|nextval|setval|lo_|read|write|terminate|cancel|reload/.test(n))).toEqual([]);
  });
});
