import { loadModule, parseSync, type ParseResult } from 'libpg-query';
import { BUILTIN_DENIED, IMPLICIT_OPERATORS, type CatalogRef } from './catalog-check.js';
import { QueryRefusedError } from './query-refused.js';
import type { Classification } from '../../sanitize/classification.js';
import { collectFacts, type QualifiedName, type StatementFacts } from './sql-facts.js';

export { QueryRefusedError } from './query-refused.js';

/**
 * Checks SQL with PostgreSQL's own parser (libpg_query compiled to WebAssembly), never with
 * regular expressions: what is checked is what the server will parse. This is the part of the
 * check that needs no database; which functions the statement may call is then decided against
 * the database's catalog (catalog-check.ts), in the statement's own transaction.
 */
let loading: Promise<void> | undefined;

export function loadSqlParser(): Promise<void> {
  loading ??= loadModule();
  return loading;
}

/**
 * Per-table column deny-list, keys as written in config (`table` or `schema.table`). `table`
 * `*` matches every table. An entry with a `classification` comes from column classification
 * (the caller's clearance does not reach those columns), and its refusals say so.
 */
export interface DenyEntry {
  schema: string | undefined;
  table: string;
  columns: Set<string>;
  classification?: Classification | undefined;
}

export interface DenyList {
  entries: DenyEntry[];
}

/** Matches every table: columns classified by bare name apply wherever that name is read. */
export const ANY_TABLE = '*';

export function compileDenyList(config: Record<string, readonly string[]>): DenyList {
  return {
    entries: Object.entries(config).map(([key, columns]) => {
      const dot = key.indexOf('.');
      return {
        schema: dot >= 0 ? key.slice(0, dot).toLowerCase() : undefined,
        table: (dot >= 0 ? key.slice(dot + 1) : key).toLowerCase(),
        columns: new Set(columns.map((c) => c.toLowerCase())),
      };
    }),
  };
}

/**
 * Catalog views that publish column contents (most common values, histograms, extended
 * statistics) without naming the column in the query.
 */
const STATISTICS_RELATIONS = new Set(['pg_stats', 'pg_stats_ext', 'pg_stats_ext_exprs', 'pg_statistic', 'pg_statistic_ext', 'pg_statistic_ext_data']);

/**
 * The NUL character ends a C string: the parser and the server could each see a different
 * prefix of the text than the other, or than this check. Refused on every SQL path.
 */
export function refuseNul(text: string, what: string): void {
  if (text.includes('\u0000')) throw new QueryRefusedError('postgres.nul_byte', `${what} contains a NUL character, which PostgreSQL cannot take.`);
}

function parse(sql: string): ParseResult {
  try {
    return parseSync(sql);
  } catch (error) {
    const message = (error as Error).message;
    throw new QueryRefusedError('postgres.syntax_error', `The SQL does not parse: ${message}`);
  }
}

function statementText(sql: string, stmt: { stmt_location?: number; stmt_len?: number }): string {
  // libpg_query reports byte offsets into the UTF-8 text.
  const bytes = Buffer.from(sql, 'utf8');
  const start = stmt.stmt_location ?? 0;
  const end = stmt.stmt_len ? start + stmt.stmt_len : bytes.length;
  return bytes.subarray(start, end).toString('utf8').trim();
}

function describeKind(kind: string): string {
  const map: Record<string, string> = {
    InsertStmt: 'INSERT',
    UpdateStmt: 'UPDATE',
    DeleteStmt: 'DELETE',
    MergeStmt: 'MERGE',
    CreateStmt: 'CREATE TABLE (DDL)',
    DropStmt: 'DROP (DDL)',
    AlterTableStmt: 'ALTER TABLE (DDL)',
    TruncateStmt: 'TRUNCATE',
    CopyStmt: 'COPY',
    VariableSetStmt: 'SET',
    TransactionStmt: 'transaction control',
    ExplainStmt: 'EXPLAIN',
    GrantStmt: 'GRANT',
    CreateRoleStmt: 'CREATE ROLE',
    DoStmt: 'DO',
    CallStmt: 'CALL',
  };
  return (
    map[kind] ??
    kind
      .replace(/Stmt$/, '')
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toUpperCase()
  );
}

export interface GuardedQuery {
  /** The single statement's text, without a trailing semicolon. */
  text: string;
  /** Highest $n placeholder used. */
  maxParam: number;
  /** What the catalog check must find callable (functions, operators, types, deny-listed columns). */
  refs: CatalogRef[];
}

type AstNode = Record<string, unknown>;

function single(sql: string): { raw: { stmt?: AstNode; stmt_location?: number; stmt_len?: number }; kind: string } {
  const tree = parse(sql);
  const stmts = tree.stmts ?? [];
  if (stmts.length === 0) throw new QueryRefusedError('postgres.empty_query', 'The SQL contains no statement.');
  if (stmts.length > 1)
    throw new QueryRefusedError('postgres.multiple_statements', `Only a single SELECT statement is allowed; this SQL has ${stmts.length} statements.`);
  const raw = stmts[0] as { stmt?: AstNode; stmt_location?: number; stmt_len?: number };
  return { raw, kind: Object.keys(raw.stmt ?? {})[0] ?? 'unknown' };
}

function refKey(ref: CatalogRef): string {
  return `${ref.k}\u0000${ref.s ?? ''}\u0000${ref.n}\u0000${ref.r ?? ''}`;
}

/**
 * Accepts exactly one plain SELECT (set operations, CTEs and VALUES included) and refuses
 * everything else with a reason id: NUL characters, several statements, DML or DDL anywhere
 * (including data-modifying CTEs), SELECT INTO, row locks, syntax this check has not reviewed,
 * built-in functions known to run SQL text or change session state, and reads of denied
 * columns (see {@link checkDeniedColumns}). What remains to decide — whether every function,
 * operator and type it names is callable — is returned as `refs` for the catalog check.
 */
export function guardQuery(sql: string, denyList: DenyList): GuardedQuery {
  refuseNul(sql, 'The SQL');
  if (sql.trim() === '') throw new QueryRefusedError('postgres.empty_query', 'The SQL contains no statement.');
  const { raw, kind } = single(sql);
  if (kind !== 'SelectStmt') throw new QueryRefusedError('postgres.not_select', `Only SELECT is allowed here; this is ${describeKind(kind)}.`);
  const facts = collectFacts(raw.stmt);
  const other = [...facts.statementKinds].find((k) => k !== 'SelectStmt');
  if (other) throw new QueryRefusedError('postgres.not_select', `Only reading is allowed here; the query contains ${describeKind(other)}.`);
  if (facts.into) throw new QueryRefusedError('postgres.not_select', 'SELECT … INTO creates a table; only reading is allowed here.');
  if (facts.locking) throw new QueryRefusedError('postgres.row_locks', 'Row locks (FOR UPDATE / FOR SHARE) are not allowed in a read-only query.');
  const unreviewed = [...facts.unreviewed].sort()[0];
  if (unreviewed) throw new QueryRefusedError('postgres.unsupported_syntax', `The query uses syntax this check does not support (${unreviewed}).`);
  // Known-bad built-ins are refused here, before any credential exists; the catalog check
  // refuses them (and everything else not callable) again, authoritatively.
  const denied = facts.functions.find((f) => (f.schema === null || f.schema === 'pg_catalog') && BUILTIN_DENIED.has(f.name));
  if (denied)
    throw new QueryRefusedError(
      'postgres.function_denied',
      `The function pg_catalog.${denied.name}() is not allowed in queries: ${BUILTIN_DENIED.get(denied.name)}.`,
    );
  const columnRefs = checkDeniedColumns(facts, denyList);
  return { text: statementText(sql, raw), maxParam: facts.maxParam, refs: catalogRefs(facts, columnRefs) };
}

function catalogRefs(facts: StatementFacts, columns: CatalogRef[]): CatalogRef[] {
  const refs = new Map<string, CatalogRef>();
  const add = (ref: CatalogRef) => refs.set(refKey(ref), ref);
  const of = (k: CatalogRef['k'], q: QualifiedName): CatalogRef => ({ k, s: q.schema, n: q.name });
  for (const f of facts.functions) add(of('f', f));
  // `t.f` reads column f of t — or, if t has no such column, calls f(t).
  for (const ref of facts.exactRefs) if (ref.length >= 2) add({ k: 'a', s: null, n: ref[ref.length - 1] as string });
  for (const op of facts.operators) add(of('o', op));
  for (const op of IMPLICIT_OPERATORS) add({ k: 'o', s: null, n: op });
  for (const t of facts.types) add(of('t', t));
  for (const c of columns) add(c);
  return [...refs.values()];
}

/**
 * Column deny-lists, conservatively, when a deny-listed table is anywhere in the query: any
 * identifier spelled like a denied column; `*` and `t.*`; whole-row references (`t`,
 * `row_to_json(t)`); column aliases that rename its columns (`customers AS c(a, b, x)`);
 * NATURAL joins (they compare every same-named column); the statistics views, which publish
 * column values (refused whenever a deny-list is configured). `t.f` on such a table must name a
 * real column — returned as catalog refs, since `t.f` with no column f calls `f(t)`.
 *
 * A convenience with a clear message, not the boundary: views, functions and other tables can
 * expose the same data. Column privileges on the template roles are the boundary.
 */
function checkDeniedColumns(facts: StatementFacts, denyList: DenyList): CatalogRef[] {
  if (denyList.entries.length === 0) return [];
  const stats = facts.relations.find((r) => (r.schema === null || r.schema.toLowerCase() === 'pg_catalog') && STATISTICS_RELATIONS.has(r.name.toLowerCase()));
  if (stats) {
    throw new QueryRefusedError(
      'postgres.column_denied',
      `${stats.name} publishes column contents; it may not be read through this tool while columns are ${denyList.entries.every((e) => e.classification) ? 'classified above your clearance' : 'deny-listed'}.`,
    );
  }
  const entryMatches = (entry: DenyEntry, r: { schema: string | null; name: string }): boolean =>
    entry.table === ANY_TABLE ||
    (r.name.toLowerCase() === entry.table && (entry.schema === undefined || r.schema === null || r.schema.toLowerCase() === entry.schema));
  const matched = facts.relations.filter((r) => denyList.entries.some((entry) => entryMatches(entry, r)));
  if (matched.length === 0) return [];
  const hits = denyList.entries.filter((entry) => matched.some((r) => entryMatches(entry, r)));
  const tables = [...new Set(matched.filter((r) => hits.some((h) => entryMatches(h, r))).map((r) => (r.schema ? `${r.schema}.${r.name}` : r.name)))];
  // A refusal caused only by classification says so (the caller may be cleared one day); a
  // configured deny-list keeps its own wording and reason.
  const classified = hits.every((h) => h.classification !== undefined);
  const reason = classified ? 'postgres.column_above_clearance' : 'postgres.column_denied';
  const unreadable = classified ? 'columns above your clearance' : 'columns that may not be read';
  for (const entry of hits) {
    for (const column of entry.columns) {
      if (!facts.identifiers.has(column)) continue;
      const where = entry.table === ANY_TABLE ? tables.join(', ') : entry.schema ? `${entry.schema}.${entry.table}` : entry.table;
      throw entry.classification
        ? new QueryRefusedError(
            'postgres.column_above_clearance',
            `The column "${column}" of ${where} is classified ${entry.classification}, above your clearance; leave it out of the query.`,
          )
        : new QueryRefusedError('postgres.column_denied', `The column "${column}" of ${where} may not be read through this tool.`);
    }
  }
  if (facts.stars > 0) {
    throw new QueryRefusedError(reason, `${tables.join(', ')} has ${unreadable}; name the columns you need instead of using *.`);
  }
  if (facts.columnAliases > 0) {
    throw new QueryRefusedError(
      reason,
      `Column aliases that rename columns (x(a, b, …)) are not allowed in a query that reads ${tables.join(', ')}, which has ${unreadable}.`,
    );
  }
  if (facts.natural) {
    throw new QueryRefusedError(
      reason,
      `NATURAL joins are not allowed in a query that reads ${tables.join(', ')} (they compare every column of the same name); join with ON or USING.`,
    );
  }
  const rowNames = new Map<string, { schema: string | null; name: string }[]>();
  for (const r of matched) {
    for (const name of [r.name, ...(r.alias ? [r.alias] : [])]) {
      const list = rowNames.get(name.toLowerCase()) ?? [];
      list.push({ schema: r.schema, name: r.name });
      rowNames.set(name.toLowerCase(), list);
    }
  }
  const refs: CatalogRef[] = [];
  for (const [i, ref] of facts.nameRefs.entries()) {
    const last = ref[ref.length - 1] as string;
    if (rowNames.has(last)) {
      throw new QueryRefusedError(reason, `Whole-row references to ${tables.join(', ')} are not allowed (it has ${unreadable}); name the columns you need.`);
    }
    if (ref.length >= 2) {
      const exact = facts.exactRefs[i] as string[];
      for (const relation of rowNames.get(ref[ref.length - 2] as string) ?? []) {
        refs.push({ k: 'c', s: relation.schema, r: relation.name, n: exact[exact.length - 1] as string });
      }
    }
  }
  return refs;
}

export type StatementKind = 'select' | 'insert' | 'update' | 'delete' | 'merge';

export interface AnalyzedStatement {
  kind: StatementKind;
  text: string;
  /** Number of $n placeholders; they are exactly $1..$n. */
  params: number;
  /** Whether it deletes or overwrites: UPDATE, DELETE, MERGE, INSERT … ON CONFLICT DO UPDATE. */
  overwrites: boolean;
}

const KINDS: Record<string, StatementKind> = { SelectStmt: 'select', InsertStmt: 'insert', UpdateStmt: 'update', DeleteStmt: 'delete', MergeStmt: 'merge' };

/** Checks an operator-declared statement (config `statements:`) once, at start. Throws a plain Error. */
export function analyzeStatement(sql: string): AnalyzedStatement {
  if (sql.includes('\u0000')) throw new Error('contains a NUL character');
  let tree: ParseResult;
  try {
    tree = parseSync(sql);
  } catch (error) {
    throw new Error(`does not parse: ${(error as Error).message}`);
  }
  const stmts = tree.stmts ?? [];
  if (stmts.length !== 1) throw new Error(`must be exactly one statement (found ${stmts.length})`);
  const raw = stmts[0] as { stmt?: AstNode; stmt_location?: number; stmt_len?: number };
  const node = Object.keys(raw.stmt ?? {})[0] ?? 'unknown';
  const kind = KINDS[node];
  if (!kind) throw new Error(`must be SELECT, INSERT, UPDATE, DELETE or MERGE (found ${describeKind(node)})`);
  const facts = collectFacts(raw.stmt);
  if (facts.into) throw new Error('SELECT … INTO is not allowed');
  const used = facts.params;
  for (let i = 1; i <= used.size; i++) if (!used.has(i)) throw new Error(`placeholders must be $1..$${used.size} without gaps ($${i} is missing)`);
  const stmt = (raw.stmt as AstNode)[node] as AstNode;
  const onConflict = stmt.onConflictClause as { action?: string } | undefined;
  const overwrites = kind === 'update' || kind === 'delete' || kind === 'merge' || (kind === 'insert' && onConflict?.action === 'ONCONFLICT_UPDATE');
  return { kind, text: statementText(sql, raw), params: used.size, overwrites };
}
