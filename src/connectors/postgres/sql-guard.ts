import { loadModule, parseSync, type ParseResult } from 'libpg-query';
import { InvalidParamsError } from '../../errors/index.js';

/**
 * Checks SQL with PostgreSQL's own parser (libpg_query compiled to WebAssembly), never with
 * regular expressions: what is checked is what the server will parse.
 */
let loading: Promise<void> | undefined;

export function loadSqlParser(): Promise<void> {
  loading ??= loadModule();
  return loading;
}

export class QueryRefusedError extends InvalidParamsError {
  /** Stable reason id, e.g. `postgres.multiple_statements`. */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(reason, message, { data: { reason } });
    this.reason = reason;
  }
}

/**
 * Functions a `query` may not call, although the role might be allowed to: they change
 * session state the gateway relies on (set_config would let a query rewrite
 * `gatehouse.actor` and fool row-level security), run SQL given as text (bypassing this
 * check), dump whole tables (bypassing column deny-lists), touch files, signal other
 * sessions, or take locks that outlive the call on a pooled connection.
 */
const DENIED_FUNCTIONS = new Set([
  'set_config',
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'table_to_xml',
  'table_to_xmlschema',
  'table_to_xml_and_xmlschema',
  'schema_to_xml',
  'schema_to_xmlschema',
  'schema_to_xml_and_xmlschema',
  'database_to_xml',
  'database_to_xmlschema',
  'database_to_xml_and_xmlschema',
  'pg_stat_file',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_promote',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_notify',
  'pg_import_system_collations',
  'nextval',
  'setval',
  'txid_current',
  'pg_current_xact_id',
  'loread',
  'lowrite',
]);
const DENIED_PREFIXES = ['dblink', 'pg_advisory', 'pg_try_advisory', 'lo_', 'pg_read_', 'pg_ls_', 'pg_file_', 'pg_replication_', 'pg_create_', 'pg_drop_', 'pg_logical_'];

function deniedFunction(name: string): boolean {
  const lower = name.toLowerCase();
  return DENIED_FUNCTIONS.has(lower) || DENIED_PREFIXES.some((p) => lower.startsWith(p));
}

/** Per-table column deny-list, keys as written in config (`table` or `schema.table`). */
export interface DenyList {
  entries: { schema: string | undefined; table: string; columns: Set<string> }[];
}

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

type AstNode = Record<string, unknown>;

interface Facts {
  statementKinds: Set<string>;
  into: boolean;
  locking: boolean;
  functions: string[];
  relations: { schema: string | undefined; name: string; alias: string | undefined }[];
  /** Every identifier (String node) in the tree, lower-cased. */
  identifiers: Set<string>;
  stars: number;
  /** ColumnRefs made only of names: candidates for whole-row references (`SELECT c FROM customers c`). */
  nameRefs: string[][];
  maxParam: number;
}

function collect(node: unknown, facts: Facts, key?: string): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, facts);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as AstNode;
  for (const [k, v] of Object.entries(obj)) {
    if (k.endsWith('Stmt') && v && typeof v === 'object') facts.statementKinds.add(k);
    if (k === 'intoClause' && v) facts.into = true;
    if (k === 'lockingClause' && v) facts.locking = true;
    if (k === 'String' && v && typeof v === 'object' && typeof (v as AstNode).sval === 'string') {
      facts.identifiers.add(((v as AstNode).sval as string).toLowerCase());
    }
    if (k === 'A_Star') facts.stars++;
    if (k === 'ParamRef' && v && typeof v === 'object') facts.maxParam = Math.max(facts.maxParam, Number((v as AstNode).number ?? 0));
    if (k === 'FuncCall' && v && typeof v === 'object') {
      const names = ((v as AstNode).funcname as AstNode[] | undefined) ?? [];
      const last = names[names.length - 1] as { String?: { sval?: string } } | undefined;
      if (last?.String?.sval) facts.functions.push(last.String.sval);
    }
    if (k === 'RangeVar' && v && typeof v === 'object') {
      const rv = v as { schemaname?: string; relname?: string; alias?: { aliasname?: string } };
      if (rv.relname) facts.relations.push({ schema: rv.schemaname?.toLowerCase(), name: rv.relname.toLowerCase(), alias: rv.alias?.aliasname?.toLowerCase() });
    }
    if (k === 'ColumnRef' && v && typeof v === 'object') {
      const fields = ((v as AstNode).fields as AstNode[] | undefined) ?? [];
      const names = fields.map((f) => (f as { String?: { sval?: string } }).String?.sval);
      if (names.every((n): n is string => typeof n === 'string')) facts.nameRefs.push(names.map((n) => n.toLowerCase()));
    }
    collect(v, facts, k);
  }
  void key;
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
  return map[kind] ?? kind.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

export interface GuardedQuery {
  /** The single statement's text, without a trailing semicolon. */
  text: string;
  /** Highest $n placeholder used. */
  maxParam: number;
}

/**
 * Accepts exactly one plain SELECT (set operations, CTEs and VALUES included) and refuses
 * everything else with a reason id: several statements, DML or DDL anywhere (including
 * data-modifying CTEs), SELECT INTO, row locks, denied functions, and any reference to a
 * denied column — conservatively: `*` and whole-row references on a table with denied
 * columns, and any identifier spelled like a denied column.
 */
export function guardQuery(sql: string, denyList: DenyList): GuardedQuery {
  if (sql.trim() === '') throw new QueryRefusedError('postgres.empty_query', 'The SQL contains no statement.');
  const tree = parse(sql);
  const stmts = tree.stmts ?? [];
  if (stmts.length === 0) throw new QueryRefusedError('postgres.empty_query', 'The SQL contains no statement.');
  if (stmts.length > 1) throw new QueryRefusedError('postgres.multiple_statements', `Only a single SELECT statement is allowed; this SQL has ${stmts.length} statements.`);
  const raw = stmts[0] as { stmt?: AstNode; stmt_location?: number; stmt_len?: number };
  const kind = Object.keys(raw.stmt ?? {})[0] ?? 'unknown';
  if (kind !== 'SelectStmt') throw new QueryRefusedError('postgres.not_select', `Only SELECT is allowed here; this is ${describeKind(kind)}.`);
  const facts: Facts = { statementKinds: new Set(), into: false, locking: false, functions: [], relations: [], identifiers: new Set(), stars: 0, nameRefs: [], maxParam: 0 };
  collect(raw.stmt, facts);
  const other = [...facts.statementKinds].find((k) => k !== 'SelectStmt');
  if (other) throw new QueryRefusedError('postgres.not_select', `Only reading is allowed here; the query contains ${describeKind(other)}.`);
  if (facts.into) throw new QueryRefusedError('postgres.not_select', 'SELECT … INTO creates a table; only reading is allowed here.');
  if (facts.locking) throw new QueryRefusedError('postgres.row_locks', 'Row locks (FOR UPDATE / FOR SHARE) are not allowed in a read-only query.');
  const denied = facts.functions.find(deniedFunction);
  if (denied) throw new QueryRefusedError('postgres.function_denied', `The function ${denied}() is not allowed in queries.`);
  checkDeniedColumns(facts, denyList);
  return { text: statementText(sql, raw), maxParam: facts.maxParam };
}

function checkDeniedColumns(facts: Facts, denyList: DenyList): void {
  if (denyList.entries.length === 0) return;
  const hits = denyList.entries.filter((entry) =>
    facts.relations.some((r) => r.name === entry.table && (entry.schema === undefined || r.schema === undefined || r.schema === entry.schema)),
  );
  if (hits.length === 0) return;
  const tables = hits.map((h) => (h.schema ? `${h.schema}.${h.table}` : h.table));
  const columns = new Set(hits.flatMap((h) => [...h.columns]));
  for (const column of columns) {
    if (facts.identifiers.has(column)) {
      throw new QueryRefusedError('postgres.column_denied', `The column "${column}" of ${tables.join(', ')} may not be read through this tool.`);
    }
  }
  if (facts.stars > 0) {
    throw new QueryRefusedError('postgres.column_denied', `${tables.join(', ')} has columns that may not be read; name the columns you need instead of using *.`);
  }
  const rowNames = new Set(
    facts.relations
      .filter((r) => hits.some((h) => h.table === r.name))
      .flatMap((r) => [r.name, ...(r.alias ? [r.alias] : [])]),
  );
  for (const ref of facts.nameRefs) {
    const last = ref[ref.length - 1] as string;
    if (rowNames.has(last)) {
      throw new QueryRefusedError('postgres.column_denied', `Whole-row references to ${tables.join(', ')} are not allowed (it has columns that may not be read); name the columns you need.`);
    }
  }
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
  const facts: Facts = { statementKinds: new Set(), into: false, locking: false, functions: [], relations: [], identifiers: new Set(), stars: 0, nameRefs: [], maxParam: 0 };
  collect(raw.stmt, facts);
  if (facts.into) throw new Error('SELECT … INTO is not allowed');
  const used = new Set<number>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (n === null || typeof n !== 'object') return;
    for (const [k, v] of Object.entries(n)) {
      if (k === 'ParamRef' && v && typeof v === 'object') used.add(Number((v as AstNode).number));
      walk(v);
    }
  };
  walk(raw.stmt);
  for (let i = 1; i <= used.size; i++) if (!used.has(i)) throw new Error(`placeholders must be $1..$${used.size} without gaps ($${i} is missing)`);
  const stmt = (raw.stmt as AstNode)[node] as AstNode;
  const onConflict = stmt.onConflictClause as { action?: string } | undefined;
  const overwrites = kind === 'update' || kind === 'delete' || kind === 'merge' || (kind === 'insert' && onConflict?.action === 'ONCONFLICT_UPDATE');
  return { kind, text: statementText(sql, raw), params: used.size, overwrites };
}
