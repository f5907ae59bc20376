import type { Result, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { PostgresServerConfig, PostgresStatementConfig } from '../../config/index.js';
import { ConfigError, PolicyDeniedError } from '../../errors/index.js';
import type { CallContext } from '../../pipeline/index.js';
import type { PostgresTool } from './postgres-tool.js';
import { type AnalyzedStatement, analyzeStatement } from './sql-guard.js';
import { bindStatementArgs, statementInputSchema } from './tool-args.js';
import type { LeasedTransactions } from './transaction.js';

/** A parameterized statement declared in config, exposed as a tool of its own. */
export class DeclaredStatementTool implements PostgresTool {
  readonly tool: Tool;

  constructor(
    name: string,
    readonly config: PostgresStatementConfig,
    readonly analyzed: AnalyzedStatement,
    private readonly maxRows: number,
    private readonly transactions: LeasedTransactions,
  ) {
    const destructive = config.destructive ?? analyzed.overwrites;
    const readOnly = analyzed.kind === 'select';
    this.tool = {
      name,
      description: config.description,
      inputSchema: statementInputSchema(config) as Tool['inputSchema'],
      annotations: { readOnlyHint: readOnly, destructiveHint: destructive, idempotentHint: readOnly, openWorldHint: false },
    };
  }

  async call(ctx: CallContext, args: Record<string, unknown>): Promise<Result> {
    const values = bindStatementArgs(this.config, args);
    const named = Object.fromEntries(this.config.params.map((p, i) => [p.name, values[i]]));
    const readOnly = this.analyzed.kind === 'select';
    const maxRows = this.maxRows;
    try {
      return await this.transactions.run(
        ctx,
        readOnly,
        (lease, context) => {
          ctx.notes.downstream = this.transactions.downstream(lease, context, this.analyzed.text, named);
          return { name: `gatehouse_stmt_${ctx.op.name}`, text: this.analyzed.text, values };
        },
        (result) => {
          const affected = result.rowCount ?? 0;
          Object.assign(ctx.notes.downstream as object, { rowsAffected: affected });
          if (this.config.maxRows !== undefined && affected > this.config.maxRows) {
            // Thrown before COMMIT: the transaction is rolled back, nothing changed.
            (ctx.notes.downstream as Record<string, unknown>).rolledBack = true;
            throw new PolicyDeniedError(
              'postgres.too_many_rows',
              `The statement would affect ${affected} rows; at most ${this.config.maxRows} are allowed. Nothing was changed.`,
            );
          }
          const columns = result.fields.map((f) => f.name);
          const rows = result.rows.slice(0, maxRows);
          const payload = {
            rowsAffected: affected,
            ...(columns.length > 0 ? { columns, rows, truncated: result.rows.length > rows.length } : {}),
          };
          return { content: [{ type: 'text', text: JSON.stringify(payload) }], structuredContent: payload };
        },
      );
    } catch (error) {
      return this.transactions.sqlError(ctx, error);
    }
  }
}

/**
 * Checks every statement declared for server `server` with the SQL parser (placeholders match
 * the declared params, no param declared twice) and builds its tool; one ConfigError lists
 * every bad statement.
 */
export function declareStatements(server: string, config: PostgresServerConfig, transactions: LeasedTransactions): DeclaredStatementTool[] {
  const issues: { path: string; message: string }[] = [];
  const tools: DeclaredStatementTool[] = [];
  for (const [tool, statement] of Object.entries(config.postgres.statements)) {
    const where = `servers.${server}.postgres.statements.${tool}`;
    let analyzed: AnalyzedStatement;
    try {
      analyzed = analyzeStatement(statement.sql);
    } catch (error) {
      issues.push({ path: `${where}.sql`, message: (error as Error).message });
      continue;
    }
    if (analyzed.params !== statement.params.length) {
      issues.push({
        path: `${where}.params`,
        message: `the SQL uses ${analyzed.params} placeholder(s) but ${statement.params.length} param(s) are declared`,
      });
      continue;
    }
    const names = statement.params.map((p) => p.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) {
      issues.push({ path: `${where}.params`, message: `parameter "${dup}" is declared twice` });
      continue;
    }
    tools.push(new DeclaredStatementTool(tool, statement, analyzed, config.postgres.query.maxRows, transactions));
  }
  if (issues.length > 0) {
    throw new ConfigError(`invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, issues);
  }
  return tools;
}
