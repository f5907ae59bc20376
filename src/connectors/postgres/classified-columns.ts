import { CLASSIFICATIONS, type Classification, classificationRank, exceeds } from '../../sanitize/classification.js';
import { ANY_TABLE, type DenyEntry, type DenyList } from './sql-guard.js';

/** A column classification key as written in config: `column`, `table.column` or `schema.table.column`. */
interface ClassifiedColumn {
  schema: string | undefined;
  table: string;
  column: string;
  classification: Classification;
}

function parseKey(key: string, classification: Classification): ClassifiedColumn {
  const parts = key.toLowerCase().split('.');
  const column = parts.pop() as string;
  const table = parts.pop() ?? ANY_TABLE;
  const schema = parts.length > 0 ? parts.join('.') : undefined;
  return { schema, table, column, classification };
}

/**
 * Column classifications of a PostgreSQL server (`fields` of the server and of its `query`
 * tool), turned into a deny-list per clearance: a caller whose clearance does not reach a
 * column cannot name it, select `*` from its table, read the table's whole rows, rename its
 * columns or NATURAL-join it (the same conservative reading as `query.denyColumns`).
 *
 * Why refuse rather than withhold: the `query` tool returns whatever the caller's SQL computes,
 * so an output column's name says nothing about its source (`salary AS s`, `salary + 0`,
 * `WHERE salary > 100000` as an oracle). Withholding by output name would be a bypass waiting
 * to happen; refusing every use of the column at parse time is not.
 */
export class ColumnClearance {
  readonly #columns: ClassifiedColumn[];
  readonly #byClearance = new Map<Classification, DenyList>();

  constructor(
    private readonly base: DenyList,
    ...fieldMaps: (Readonly<Record<string, Classification>> | undefined)[]
  ) {
    const strongest = new Map<string, ClassifiedColumn>();
    for (const fields of fieldMaps) {
      for (const [key, classification] of Object.entries(fields ?? {})) {
        const parsed = parseKey(key, classification);
        const id = `${parsed.schema ?? ''}\u0000${parsed.table}\u0000${parsed.column}`;
        const known = strongest.get(id);
        if (!known || classificationRank(classification) > classificationRank(known.classification)) strongest.set(id, parsed);
      }
    }
    this.#columns = [...strongest.values()];
  }

  /** True when some column is classified above `public` (the lowest clearance there is). */
  get any(): boolean {
    return this.#columns.some((c) => exceeds(c.classification, CLASSIFICATIONS[0]));
  }

  /**
   * The deny-list in force for a caller cleared for `clearance`: the configured deny-list plus
   * every column classified above it. Without a known clearance (no output rules in force) the
   * lowest is assumed: classified columns are never readable by accident.
   */
  denyListFor(clearance: Classification | undefined): DenyList {
    const level = clearance ?? CLASSIFICATIONS[0];
    let list = this.#byClearance.get(level);
    if (!list) {
      const extra: DenyEntry[] = this.#columns
        .filter((c) => exceeds(c.classification, level))
        .map((c) => ({ schema: c.schema, table: c.table, columns: new Set([c.column]), classification: c.classification }));
      list = extra.length === 0 ? this.base : { entries: [...this.base.entries, ...extra] };
      this.#byClearance.set(level, list);
    }
    return list;
  }
}
