/**
 * What a parsed statement refers to, collected from every node of libpg_query's raw parse tree:
 * the functions, operators and types it names (so their callability can be decided against the
 * catalog), the relations it reads, and the shapes that matter to column deny-lists.
 *
 * The walk is generic — every value of every node is visited — and fails closed: a node kind
 * that is not in {@link REVIEWED_NODES} is reported, so a grammar addition that could call code
 * in a way this module does not see is refused instead of waved through.
 */

type AstNode = Record<string, unknown>;

/** A possibly schema-qualified name as written (the parser has already case-folded it). */
export interface QualifiedName {
  schema: string | null;
  name: string;
}

export interface RelationRef {
  schema: string | null;
  name: string;
  alias: string | null;
}

export interface StatementFacts {
  /** Wrapper keys of statement nodes (`SelectStmt`, `DeleteStmt`, …) anywhere in the tree. */
  statementKinds: Set<string>;
  /** Node kinds outside {@link REVIEWED_NODES}. */
  unreviewed: Set<string>;
  into: boolean;
  locking: boolean;
  /** Called functions: FuncCall names and TABLESAMPLE methods. */
  functions: QualifiedName[];
  /** Operators named explicitly (A_Expr, ANY/ALL sublinks, ORDER BY … USING). */
  operators: QualifiedName[];
  /** Types named in casts, column definition lists, XMLSERIALIZE, JSON RETURNING, … */
  types: QualifiedName[];
  relations: RelationRef[];
  /** Aliases that rename columns: `t AS x(a, b)`, `(…) AS j(a, b)`, `WITH c(a, b) AS (…)`. */
  columnAliases: number;
  natural: boolean;
  /** Every identifier (String node) in the tree, lower-cased. */
  identifiers: Set<string>;
  stars: number;
  /** ColumnRefs made only of names, lower-cased (`c`, `c.id`, `s.c.id`). */
  nameRefs: string[][];
  /** ColumnRefs made only of names, as written (case-folded by the parser, not by us). */
  exactRefs: string[][];
  maxParam: number;
  params: Set<number>;
}

/**
 * Node kinds a read-only SELECT may contain, each reviewed for the code it can make the server
 * run: function calls (FuncCall, TABLESAMPLE), operators (A_Expr, SubLink, SortBy and the
 * implicit comparisons of CASE, DISTINCT, GROUP BY, IN, NULLIF, MIN/MAX), type conversions
 * (TypeCast, column definitions, XMLSERIALIZE, JSON RETURNING) — all collected here — and
 * constructs that only evaluate sub-expressions. Statement nodes other than SelectStmt, and
 * INTO and locking clauses, are present so that the guard can name them in its refusal.
 */
export const REVIEWED_NODES: ReadonlySet<string> = new Set([
  'SelectStmt',
  'ResTarget',
  'ColumnRef',
  'String',
  'Integer',
  'Float',
  'Boolean',
  'BitString',
  'List',
  'A_Const',
  'A_Star',
  'A_Expr',
  'A_Indices',
  'A_Indirection',
  'A_ArrayExpr',
  'ParamRef',
  'FuncCall',
  'NamedArgExpr',
  'TypeCast',
  'TypeName',
  'CollateClause',
  'BoolExpr',
  'NullTest',
  'BooleanTest',
  'CaseExpr',
  'CaseWhen',
  'CoalesceExpr',
  'MinMaxExpr',
  'SQLValueFunction',
  'XmlExpr',
  'XmlSerialize',
  'RowExpr',
  'SubLink',
  'GroupingSet',
  'GroupingFunc',
  'WindowDef',
  'SortBy',
  'RangeVar',
  'RangeSubselect',
  'RangeFunction',
  'RangeTableSample',
  'RangeTableFunc',
  'RangeTableFuncCol',
  'JoinExpr',
  'Alias',
  'CommonTableExpr',
  'WithClause',
  'CTESearchClause',
  'CTECycleClause',
  'ColumnDef',
  'LockingClause',
  'IntoClause',
  // SQL/JSON (PostgreSQL 16+ syntax): constructors, predicates and query functions evaluate
  // built-in functions; their RETURNING and column types are collected as types.
  'JsonObjectConstructor',
  'JsonArrayConstructor',
  'JsonArrayQueryConstructor',
  'JsonAggConstructor',
  'JsonObjectAgg',
  'JsonArrayAgg',
  'JsonKeyValue',
  'JsonValueExpr',
  'JsonOutput',
  'JsonReturning',
  'JsonFormat',
  'JsonIsPredicate',
  'JsonParseExpr',
  'JsonScalarExpr',
  'JsonSerializeExpr',
  'JsonFuncExpr',
  'JsonTable',
  'JsonTableColumn',
  'JsonTablePathSpec',
  'JsonBehavior',
  'JsonArgument',
]);

/** `BETWEEN` and friends name no operator: they become `>=`/`<=` (or `<`/`>`), which are always checked. */
const NAMELESS_OPERATOR_KINDS = new Set(['AEXPR_BETWEEN', 'AEXPR_NOT_BETWEEN', 'AEXPR_BETWEEN_SYM', 'AEXPR_NOT_BETWEEN_SYM']);

function svals(list: unknown): string[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: string[] = [];
  for (const item of list) {
    const s = (item as { String?: { sval?: unknown } } | null)?.String?.sval;
    if (typeof s !== 'string') return undefined;
    out.push(s);
  }
  return out;
}

/** `[catalog.][schema.]name` → the schema (if any) and the name. */
function qualified(parts: string[] | undefined): QualifiedName | undefined {
  if (!parts || parts.length === 0) return undefined;
  return { schema: parts.length >= 2 ? (parts[parts.length - 2] as string) : null, name: parts[parts.length - 1] as string };
}

function emptyFacts(): StatementFacts {
  return {
    statementKinds: new Set(),
    unreviewed: new Set(),
    into: false,
    locking: false,
    functions: [],
    operators: [],
    types: [],
    relations: [],
    columnAliases: 0,
    natural: false,
    identifiers: new Set(),
    stars: 0,
    nameRefs: [],
    exactRefs: [],
    maxParam: 0,
    params: new Set(),
  };
}

function typeName(value: unknown, facts: StatementFacts): void {
  const name = qualified(svals((value as { names?: unknown } | null)?.names));
  if (name) facts.types.push(name);
}

function alias(value: unknown, facts: StatementFacts): void {
  const colnames = (value as { colnames?: unknown[] } | null)?.colnames;
  if (Array.isArray(colnames) && colnames.length > 0) facts.columnAliases++;
}

/**
 * Nodes that call a function or apply an operator by name, and the field holding that name. The
 * sampling method of TABLESAMPLE is a function (a tsm_handler) looked up by name. (`A_Expr`
 * names an operator only for some of its kinds: see `node`.)
 */
const NAMED_BY: ReadonlyMap<string, { list: 'functions' | 'operators'; field: string }> = new Map([
  ['FuncCall', { list: 'functions', field: 'funcname' }],
  ['RangeTableSample', { list: 'functions', field: 'method' }],
  ['SubLink', { list: 'operators', field: 'operName' }],
  ['SortBy', { list: 'operators', field: 'useOp' }],
]);

/** Adds the qualified name a node spells as a list of string parts (none when it has no name). */
function pushName(list: QualifiedName[], parts: unknown): void {
  const name = qualified(svals(parts));
  if (name) list.push(name);
}

/** What one node kind contributes; its children are walked by the caller either way. */
function node(kind: string, body: AstNode, facts: StatementFacts): void {
  if (!REVIEWED_NODES.has(kind)) facts.unreviewed.add(kind);
  if (kind.endsWith('Stmt')) facts.statementKinds.add(kind);
  const named = NAMED_BY.get(kind);
  if (named) pushName(facts[named.list], body[named.field]);
  switch (kind) {
    case 'A_Expr':
      if (!NAMELESS_OPERATOR_KINDS.has(String(body.kind))) pushName(facts.operators, body.name);
      break;
    case 'TypeName':
      typeName(body, facts);
      break;
    case 'Alias':
      alias(body, facts);
      break;
    case 'RangeVar': {
      if (typeof body.relname === 'string') {
        facts.relations.push({
          schema: typeof body.schemaname === 'string' ? body.schemaname : null,
          name: body.relname,
          alias:
            typeof (body.alias as { aliasname?: unknown } | undefined)?.aliasname === 'string'
              ? ((body.alias as { aliasname: string }).aliasname as string)
              : null,
        });
      }
      break;
    }
    case 'JoinExpr':
      if (body.isNatural === true) facts.natural = true;
      break;
    case 'CommonTableExpr':
      if (Array.isArray(body.aliascolnames) && body.aliascolnames.length > 0) facts.columnAliases++;
      break;
    case 'ColumnRef': {
      const names = svals(body.fields);
      if (names) {
        facts.exactRefs.push(names);
        facts.nameRefs.push(names.map((n) => n.toLowerCase()));
      }
      break;
    }
    case 'A_Star':
      facts.stars++;
      break;
    case 'ParamRef': {
      const n = Number(body.number ?? 0);
      facts.params.add(n);
      facts.maxParam = Math.max(facts.maxParam, n);
      break;
    }
    case 'String':
      if (typeof body.sval === 'string') facts.identifiers.add(body.sval.toLowerCase());
      break;
    case 'IntoClause':
      facts.into = true;
      break;
    case 'LockingClause':
      facts.locking = true;
      break;
  }
}

function walk(value: unknown, facts: StatementFacts): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, facts);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as AstNode)) {
    // libpg_query's JSON wraps a node in an object keyed by its kind ({ "FuncCall": {…} }) where
    // the field is a generic Node; fields of one fixed kind (typeName, alias, intoClause, …) are
    // written unwrapped, so those are recognised by their field name.
    if (/^[A-Z]/.test(key) && child !== null && typeof child === 'object' && !Array.isArray(child)) {
      node(key, child as AstNode, facts);
    } else if (key === 'typeName') {
      typeName(child, facts);
    } else if (key === 'alias' || key === 'join_using_alias') {
      alias(child, facts);
    } else if (key === 'intoClause' && child) {
      facts.into = true;
    } else if (key === 'lockingClause' && Array.isArray(child) && child.length > 0) {
      facts.locking = true;
    }
    walk(child, facts);
  }
}

export function collectFacts(stmt: unknown): StatementFacts {
  const facts = emptyFacts();
  walk(stmt, facts);
  return facts;
}
