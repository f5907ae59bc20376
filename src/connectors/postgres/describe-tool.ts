import type { Result, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { PostgresSettings } from '../../config/index.js';
import type { CallContext } from '../../pipeline/index.js';
import type { PostgresTool } from './postgres-tool.js';
import type { ColumnClearance } from './classified-columns.js';
import { ANY_TABLE } from './sql-guard.js';
import { DESCRIBE_INPUT_SCHEMA, parseDescribeArgs } from './tool-args.js';
import type { LeasedTransactions } from './transaction.js';

const DESCRIBE_SQL = `SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable
  FROM information_schema.columns c
 WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
   AND ($1::text IS NULL OR c.table_schema = $1)
   AND ($2::text IS NULL OR c.table_name = $2)
 ORDER BY c.table_schema, c.table_name, c.ordinal_position
 LIMIT 5000`;

/** The `describe` tool: the tables and columns the caller's role can see, minus denied columns. */
export class DescribeTool implements PostgresTool {
  readonly tool: Tool;

  constructor(
    private readonly settings: PostgresSettings,
    private readonly columns: ColumnClearance,
    private readonly transactions: LeasedTransactions,
  ) {
    this.tool = {
      name: 'describe',
      description: `Lists the tables and columns of "${settings.database}" that your database role can see.`,
      inputSchema: DESCRIBE_INPUT_SCHEMA as Tool['inputSchema'],
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    };
  }

  async call(ctx: CallContext, args: Record<string, unknown>): Promise<Result> {
    const { schema, table } = parseDescribeArgs(args);
    const text = DESCRIBE_SQL;
    try {
      return await this.transactions.run(
        ctx,
        true,
        (lease, context) => {
          ctx.notes.downstream = this.transactions.downstream(lease, context, text, [schema, table]);
          return { text, values: [schema, table], name: 'gatehouse_describe' };
        },
        (result) => {
          const tables = new Map<string, { schema: string; table: string; columns: { name: string; type: string; nullable: boolean }[] }>();
          let hidden = 0;
          const denyList = this.columns.denyListFor(ctx.clearance);
          for (const [tableSchema, tableName, columnName, dataType, isNullable] of result.rows as string[][]) {
            const denied = denyList.entries.some(
              (e) =>
                (e.table === ANY_TABLE || e.table === (tableName as string).toLowerCase()) &&
                (e.schema === undefined || e.schema === (tableSchema as string).toLowerCase()) &&
                e.columns.has((columnName as string).toLowerCase()),
            );
            if (denied) {
              hidden++;
              continue;
            }
            const key = `${tableSchema}.${tableName}`;
            let entry = tables.get(key);
            if (!entry) tables.set(key, (entry = { schema: tableSchema as string, table: tableName as string, columns: [] }));
            entry.columns.push({ name: columnName as string, type: dataType as string, nullable: isNullable === 'YES' });
          }
          Object.assign(ctx.notes.downstream as object, { rowCount: result.rowCount ?? 0 });
          const payload = {
            database: this.settings.database,
            tables: [...tables.values()],
            ...(hidden > 0 ? { note: `${hidden} column(s) are not readable through this tool` } : {}),
          };
          return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload };
        },
      );
    } catch (error) {
      return this.transactions.sqlError(ctx, error);
    }
  }
}
