import type { BenchContext, BenchModule, Table, Verdict } from './types.ts';

/** What a self-contained bench function may return: one table as records, plus notes. */
export interface RowsResult {
  title: string;
  rows: Record<string, string | number>[];
  notes?: string[];
  /** Set when nothing could be measured: why (the table then says so, and the summary counts it as skipped). */
  skipped?: string;
}

/**
 * Adapts a bench written as `async (log) => ({ title, rows, notes })` (e.g. bench/postgres.ts)
 * into a module for bench/run.ts. Columns are the union of the rows' keys; rows with a
 * `target` and a `verdict` (PASS / MISS / FAIL) also become verdict lines.
 */
export function rowsModule(name: string, title: string, run: (ctx: BenchContext) => Promise<RowsResult>): BenchModule {
  return {
    name,
    title,
    async run(ctx) {
      const result = await run(ctx);
      const columns = [...new Set(result.rows.flatMap((row) => Object.keys(row)))];
      const table: Table = {
        title: result.title,
        columns,
        rows: result.rows.map((row) => columns.map((c) => row[c] ?? '')),
        notes: result.notes ?? [],
      };
      const verdicts: Verdict[] = result.rows
        .filter((row) => row.target && (row.verdict === 'PASS' || row.verdict === 'MISS' || row.verdict === 'FAIL'))
        .map((row) => ({
          target: `${typeof row[columns[0] as string] === 'number' ? `${columns[0]}=${row[columns[0] as string]}:` : String(row[columns[0] as string])} ${String(row.target)}`,
          pass: row.verdict === 'PASS',
          detail: columns
            .filter((c) => c !== columns[0] && c !== 'target' && c !== 'verdict' && row[c] !== undefined && row[c] !== '')
            .map((c) => `${c} ${String(row[c])}`)
            .join(', '),
        }));
      return { tables: [table], verdicts, data: result, ...(result.skipped ? { skipped: result.skipped } : {}) };
    },
  };
}
