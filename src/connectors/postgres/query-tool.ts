import type { Result, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { PostgresSettings } from '../../config/index.js';
import type { CallContext } from '../../pipeline/index.js';
import type { Classification } from '../../sanitize/classification.js';
import type { PostgresTool } from './postgres-tool.js';
import type { ColumnClearance } from './classified-columns.js';
import { type GuardedQuery, guardQuery, QueryRefusedError } from './sql-guard.js';
import { parseQueryArgs, QUERY_INPUT_SCHEMA } from './tool-args.js';
import type { LeasedTransactions } from './transaction.js';

const GUARD_CACHE_SIZE = 1000;

/** A guard verdict with its catalog references serialized once (they go with every run of the text). */
interface CachedQuery extends GuardedQuery {
  refsJson: string;
}

/** The `query` tool: one guarded, read-only SELECT, row- and byte-limited. */
export class QueryTool implements PostgresTool {
  readonly tool: Tool;
  /**
   * Guard verdicts by clearance and exact SQL text. The parser costs ~0.1 ms per statement and
   * agents re-run the same parameterized text with new params; the guard is a pure function of
   * the text and the deny-list in force for the caller's clearance, so a cached verdict is the
   * same verdict.
   */
  readonly #guarded = new Map<string, CachedQuery | QueryRefusedError>();

  constructor(
    private readonly settings: PostgresSettings,
    private readonly columns: ColumnClearance,
    private readonly transactions: LeasedTransactions,
  ) {
    const q = settings.query;
    this.tool = {
      name: 'query',
      description:
        `Runs one read-only SELECT on the "${settings.database}" database as you (a short-lived database role mapped from your groups). ` +
        `At most ${q.maxRows} rows and ${Math.round(q.maxBytes / 1024)} KiB are returned (truncation is reported); statements time out after ${q.statementTimeout / 1000}s. ` +
        'Filter and aggregate in SQL rather than fetching whole tables. Pass values as $1, $2… with "params".',
      inputSchema: QUERY_INPUT_SCHEMA as Tool['inputSchema'],
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    };
  }

  async call(ctx: CallContext, args: Record<string, unknown>): Promise<Result> {
    const { sql, params } = parseQueryArgs(args);
    const guarded = this.#guard(sql, ctx.clearance);
    if (guarded.maxParam !== params.length) {
      throw new QueryRefusedError('postgres.params_mismatch', `The SQL uses ${guarded.maxParam} placeholder(s) but ${params.length} param(s) were given.`);
    }
    const { maxRows, maxBytes } = this.settings.query;
    // The row limit is enforced by the server (no more than maxRows + 1 rows ever leave it); the
    // statement itself is the guarded text, unchanged, as a subquery.
    const text = `SELECT * FROM (\n${guarded.text}\n) AS gatehouse_query LIMIT $${params.length + 1}`;
    try {
      return await this.transactions.run(
        ctx,
        true,
        (lease, context) => {
          ctx.notes.downstream = this.transactions.downstream(lease, context, text, [...params, maxRows + 1]);
          return { text, values: [...params, maxRows + 1] };
        },
        (result) => {
          const columns = result.fields.map((f) => f.name);
          const rows: unknown[][] = [];
          let bytes = 0;
          let truncated: string | undefined;
          for (const row of result.rows) {
            if (rows.length >= maxRows) {
              truncated = `row limit: only the first ${maxRows} rows are returned`;
              break;
            }
            const size = Buffer.byteLength(JSON.stringify(row));
            if (bytes + size > maxBytes) {
              truncated = `size limit: only the first ${rows.length} rows (${bytes} bytes) fit in ${maxBytes} bytes`;
              break;
            }
            bytes += size;
            rows.push(row);
          }
          Object.assign(ctx.notes.downstream as object, { rowCount: rows.length, truncated: truncated !== undefined });
          const payload = { columns, rows, rowCount: rows.length, truncated: truncated !== undefined, ...(truncated ? { truncation: truncated } : {}) };
          return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload };
        },
        { refs: guarded.refs, refsJson: guarded.refsJson },
      );
    } catch (error) {
      return this.transactions.sqlError(ctx, error);
    }
  }

  #guard(sql: string, clearance: Classification | undefined): CachedQuery {
    const key = `${clearance ?? ''}\u0000${sql}`;
    let verdict = this.#guarded.get(key);
    if (verdict === undefined) {
      try {
        const guarded = guardQuery(sql, this.columns.denyListFor(clearance));
        verdict = { ...guarded, refsJson: JSON.stringify(guarded.refs) };
      } catch (error) {
        if (!(error instanceof QueryRefusedError)) throw error;
        verdict = error;
      }
      if (this.#guarded.size >= GUARD_CACHE_SIZE) this.#guarded.delete(this.#guarded.keys().next().value as string);
      this.#guarded.set(key, verdict);
    } else {
      // Least recently used goes first: re-insert on every hit.
      this.#guarded.delete(key);
      this.#guarded.set(key, verdict);
    }
    if (verdict instanceof QueryRefusedError) throw new QueryRefusedError(verdict.reason, verdict.message);
    return verdict;
  }
}
