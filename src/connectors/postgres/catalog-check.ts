import { escapeLiteral } from 'pg';
import { QueryRefusedError } from './query-refused.js';

/**
 * Which functions a `query` may call, decided from the catalog of the database it runs on, in
 * the same transaction, immediately before the statement.
 *
 * The parser gives names; the server resolves them (search_path, overloads, argument types).
 * Rather than guess the server's choice, the check takes every function a name could resolve
 * to — every overload in the named schema, or in any schema on the transaction's search path —
 * and requires all of them to be callable:
 *
 * - **Built into PostgreSQL** (object id below 16384, created by initdb): callable when it is
 *   IMMUTABLE or STABLE, not SECURITY DEFINER, and not in {@link BUILTIN_DENIED}; of the
 *   VOLATILE ones only {@link VOLATILE_ALLOWED}. PostgreSQL's own volatility markings are facts
 *   about its own code; {@link BUILTIN_DENIED} lists the few non-volatile built-ins that still
 *   run SQL given as text, dump whole tables, or change session or transaction state.
 * - **Defined in the database** (functions, aggregates, operators' functions; extensions
 *   included): never callable unless the operator lists them in `query.allowFunctions`. Their
 *   volatility is a claim by whoever wrote them (a STABLE PL/pgSQL function may still EXECUTE
 *   any text), not a fact.
 *
 * Operators are checked through their functions (built-in operators all map to immutable or
 * stable built-ins; database-defined ones are checked like any function), types through the
 * functions a conversion to them can run (a database-defined type's I/O functions and domain
 * constraints, and database-defined casts into it), and `t.f` through the functions `f(t)` it
 * may mean. A name that resolves to nothing is refused too (`pg_temp.f()` must not slip past
 * on a technicality).
 */

/** Built-in functions refused whatever their volatility, with the reason the agent sees. */
export const BUILTIN_DENIED: ReadonlyMap<string, string> = new Map([
  ...['ts_stat', 'ts_rewrite', 'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'cursor_to_xml', 'cursor_to_xmlschema'].map(
    (name) => [name, 'it runs SQL given as text, which this check cannot see'] as const,
  ),
  ...[
    'table_to_xml',
    'table_to_xmlschema',
    'table_to_xml_and_xmlschema',
    'schema_to_xml',
    'schema_to_xmlschema',
    'schema_to_xml_and_xmlschema',
    'database_to_xml',
    'database_to_xmlschema',
    'database_to_xml_and_xmlschema',
  ].map((name) => [name, 'it reads whole tables by name, past the column checks'] as const),
  ...[
    'set_config',
    'setseed',
    'pg_advisory_lock',
    'pg_advisory_lock_shared',
    'pg_try_advisory_lock',
    'pg_try_advisory_lock_shared',
    'pg_advisory_xact_lock',
    'pg_advisory_xact_lock_shared',
    'pg_try_advisory_xact_lock',
    'pg_try_advisory_xact_lock_shared',
    'pg_advisory_unlock',
    'pg_advisory_unlock_shared',
    'pg_advisory_unlock_all',
    'txid_current',
    'pg_current_xact_id',
    'nextval',
    'setval',
    'currval',
    'lastval',
    'pg_notify',
    'pg_export_snapshot',
  ].map((name) => [name, 'it changes session or transaction state'] as const),
]);

/**
 * Built-in VOLATILE functions that change nothing: random values, clocks, sleeping (bounded by
 * statement_timeout), sizes, server and partition information, TABLESAMPLE methods.
 */
export const VOLATILE_ALLOWED: ReadonlySet<string> = new Set([
  'random',
  'random_normal',
  'gen_random_uuid',
  'uuidv4',
  'uuidv7',
  'clock_timestamp',
  'timeofday',
  'pg_sleep',
  'pg_sleep_for',
  'pg_sleep_until',
  'pg_relation_size',
  'pg_total_relation_size',
  'pg_table_size',
  'pg_indexes_size',
  'pg_database_size',
  'pg_tablespace_size',
  'pg_is_in_recovery',
  'pg_last_xact_replay_timestamp',
  'pg_blocking_pids',
  'pg_safe_snapshot_blocking_pids',
  'pg_partition_tree',
  'pg_partition_ancestors',
  'pg_jit_available',
  'current_query',
  'bernoulli',
  'system',
]);

/**
 * Operators a SELECT can use without naming them: CASE x WHEN, IN, NULLIF, DISTINCT, GROUP BY,
 * ORDER BY, set operations, MIN/MAX-like GREATEST/LEAST and BETWEEN resolve these by name.
 * Checking them always means a database-defined `=` on the search path cannot hide behind them.
 */
export const IMPLICIT_OPERATORS = ['=', '<>', '<', '>', '<=', '>='] as const;

/**
 * One name to check, as the catalog query reads it (short keys: the array is sent with every
 * query). `k`: `f` function call, `a` `t.f` column-or-function, `o` operator, `t` type,
 * `c` a column of deny-listed relation `r` (must exist: anything else behind `t.` is a function
 * over the whole row).
 */
export interface CatalogRef {
  k: 'f' | 'a' | 'o' | 't' | 'c';
  s: string | null;
  n: string;
  r?: string;
}

/** Functions database-defined yet callable by default: the actor lookup installed for the connector. */
export const ALWAYS_ALLOWED_FUNCTIONS = ['gatehouse.actor'] as const;

function textArray(values: Iterable<string>): string {
  const items = [...values].map((v) => escapeLiteral(v));
  return items.length === 0 ? "'{}'::pg_catalog.text[]" : `ARRAY[${items.join(', ')}]::pg_catalog.text[]`;
}

/** Where an unqualified name is looked up: every schema on the transaction's search path (pg_catalog included). */
const IN_SCHEMA = (schemaColumn: string, ref: string) =>
  `CASE WHEN ${ref}.s IS NULL THEN ${schemaColumn} = ANY (pg_catalog.current_schemas(true)) ELSE ${schemaColumn} = ${ref}.s END`;

/**
 * The check, for a connector with the given allow-list. It takes the references as one jsonb
 * parameter and returns one row with 0 — or, when anything is not callable, fails with a cast
 * error carrying `gatehouse-guard:<ref index>:<why>:<hex of schema.name>`. Failing is the point:
 * the check is pipelined right before the statement in the same transaction, and an error
 * aborts that transaction, so the statement never runs; no extra round trip is spent waiting
 * for a verdict.
 */
export function catalogCheckSql(allowFunctions: readonly string[]): string {
  const allowed = textArray(new Set([...ALWAYS_ALLOWED_FUNCTIONS, ...allowFunctions]));
  return `WITH refs AS (
  SELECT (r.ord - 1)::pg_catalog.int4 AS i, r.ref->>'k' AS k, r.ref->>'s' AS s, r.ref->>'n' AS n, r.ref->>'r' AS rel
    FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb) WITH ORDINALITY AS r(ref, ord)
),
named AS (
  SELECT r.i, r.k, p.oid AS fn
    FROM refs r
    JOIN pg_catalog.pg_proc p ON p.proname = r.n
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
   WHERE r.k IN ('f', 'a') AND ${IN_SCHEMA('n.nspname', 'r')}
     AND (r.k = 'f' OR (p.pronargs = 1 AND EXISTS (SELECT FROM pg_catalog.pg_type t WHERE t.oid = p.proargtypes[0] AND t.typtype IN ('c', 'p'))))
  UNION ALL
  SELECT r.i, r.k, o.oprcode::pg_catalog.oid
    FROM refs r
    JOIN pg_catalog.pg_operator o ON o.oprname = r.n
    JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
   WHERE r.k = 'o' AND o.oid >= 16384 AND ${IN_SCHEMA('n.nspname', 'r')}
  UNION ALL
  SELECT r.i, r.k, f.fn
    FROM refs r
    JOIN pg_catalog.pg_type t ON t.typname = r.n
    JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   CROSS JOIN LATERAL (
         SELECT d.refobjid AS fn FROM pg_catalog.pg_depend d
          WHERE t.oid >= 16384 AND d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objid = t.oid
            AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
         UNION ALL
         SELECT d.refobjid FROM pg_catalog.pg_constraint c
           JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objid = c.oid
          WHERE t.oid >= 16384 AND c.contypid = t.oid AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
         UNION ALL
         SELECT c.castfunc FROM pg_catalog.pg_cast c WHERE c.casttarget = t.oid AND c.castfunc >= 16384
       ) f
   WHERE r.k = 't' AND ${IN_SCHEMA('n.nspname', 'r')}
),
verdicts AS (
  SELECT x.i,
         CASE
           WHEN p.oid >= 16384 THEN
             CASE WHEN (n.nspname || '.' || p.proname) = ANY (${allowed}) THEN NULL
                  -- C and internal functions exist only if a superuser created them; as a type's
                  -- I/O or cast functions they are part of that type.
                  WHEN x.k = 't' AND l.lanname IN ('c', 'internal') THEN NULL
                  ELSE 'user_defined' END
           WHEN p.proname = ANY (${textArray(BUILTIN_DENIED.keys())}) THEN 'denied'
           WHEN p.prosecdef THEN 'security_definer'
           WHEN p.provolatile = 'v' AND x.k <> 't' AND NOT p.proname = ANY (${textArray(VOLATILE_ALLOWED)}) THEN 'volatile'
         END AS why,
         n.nspname || '.' || p.proname AS qname
    FROM named x
    JOIN pg_catalog.pg_proc p ON p.oid = x.fn
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    JOIN pg_catalog.pg_language l ON l.oid = p.prolang
  UNION ALL
  SELECT r.i, 'unknown', r.n FROM refs r
   WHERE (r.k = 'f' AND NOT EXISTS (SELECT FROM named x WHERE x.i = r.i))
      OR (r.k = 'o' AND NOT EXISTS (SELECT FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
                                     WHERE o.oprname = r.n AND ${IN_SCHEMA('n.nspname', 'r')}))
  UNION ALL
  SELECT r.i, 'not_a_column', r.n FROM refs r
   CROSS JOIN LATERAL (SELECT pg_catalog.to_regclass(CASE WHEN r.s IS NULL THEN '' ELSE pg_catalog.quote_ident(r.s) || '.' END || pg_catalog.quote_ident(r.rel)) AS rel) c
   WHERE r.k = 'c' AND c.rel IS NOT NULL
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.rel AND a.attname = r.n AND NOT a.attisdropped)
)
SELECT CASE WHEN v.why IS NULL THEN 0
            ELSE ('gatehouse-guard:' || v.i || ':' || v.why || ':' || pg_catalog.encode(pg_catalog.convert_to(v.qname, 'UTF8'), 'hex'))::pg_catalog.int4
       END AS refused
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (SELECT i, why, qname FROM verdicts WHERE why IS NOT NULL ORDER BY i LIMIT 1) v ON true`;
}

const VERDICT = /gatehouse-guard:(\d{1,6}):([a-z_]{1,20}):([0-9a-f]{0,2048})/;

function display(ref: CatalogRef): string {
  return ref.s === null ? ref.n : `${ref.s}.${ref.n}`;
}

function why(code: string, qname: string): string {
  switch (code) {
    case 'user_defined':
      return 'it is defined in the database, not built into PostgreSQL (an operator can allow it with query.allowFunctions)';
    case 'denied':
      return BUILTIN_DENIED.get(qname.slice(qname.lastIndexOf('.') + 1)) ?? 'it is not allowed';
    case 'security_definer':
      return "it runs with its owner's privileges (SECURITY DEFINER)";
    case 'volatile':
      return 'it is VOLATILE (it may change state); queries may call immutable and stable functions and a few harmless volatile ones';
    default:
      return 'it is not allowed';
  }
}

/**
 * The refusal a failed check stands for, or undefined if the error is not the check's verdict.
 * `message` is the database's error message; the verdict in it is ours (ref index, a code from
 * the fixed set above, and a hex-encoded name), so nothing from the error is echoed raw.
 */
export function catalogRefusal(message: string, refs: readonly CatalogRef[]): QueryRefusedError | undefined {
  const match = VERDICT.exec(message);
  if (!match) return undefined;
  const ref = refs[Number(match[1])];
  const code = match[2] as string;
  const qname = Buffer.from(match[3] as string, 'hex').toString('utf8');
  if (!ref) return new QueryRefusedError('postgres.function_denied', 'The query calls a function that is not allowed in queries.');
  if (code === 'not_a_column') {
    return new QueryRefusedError(
      'postgres.column_denied',
      `"${ref.n}" is not a column of ${ref.r}, which has columns that may not be read; "x.${ref.n}" would apply a function to the whole row.`,
    );
  }
  if (code === 'unknown') {
    const what = ref.k === 'o' ? `The operator ${display(ref)}` : `The function ${display(ref)}()`;
    return new QueryRefusedError('postgres.function_denied', `${what} does not exist in any schema this query can use.`);
  }
  const reason = why(code, qname);
  switch (ref.k) {
    case 'o':
      return new QueryRefusedError('postgres.function_denied', `The operator ${display(ref)} is not allowed in queries: it calls ${qname}(), and ${reason}.`);
    case 't':
      return new QueryRefusedError(
        'postgres.function_denied',
        `The type ${display(ref)} is not allowed in queries: converting to it calls ${qname}(), and ${reason}.`,
      );
    case 'a':
      return new QueryRefusedError('postgres.function_denied', `"x.${ref.n}" may call the function ${qname}(), which is not allowed in queries: ${reason}.`);
    default:
      return new QueryRefusedError('postgres.function_denied', `The function ${qname}() is not allowed in queries: ${reason}.`);
  }
}
