import type { BenchReport, Table, Verdict } from './types.ts';

const NUMERIC = /^[-+]?[\d,.]+\s*(×|%|ms|MB|kB|µs)?$|^[\d,.]+–[\d,.]+$|^[-–]$/;

/** Renders a table as aligned text; numeric-looking cells are right-aligned. */
export function renderTable(table: Table): string {
  const cells = table.rows.map((row) => row.map((c) => String(c)));
  const widths = table.columns.map((col, i) => Math.max(col.length, ...cells.map((r) => (r[i] ?? '').length)));
  const align = (text: string, i: number, header = false) => {
    const w = widths[i] as number;
    const right = !header ? NUMERIC.test(text) : cells.some((r) => NUMERIC.test(r[i] ?? ''));
    return right ? text.padStart(w) : text.padEnd(w);
  };
  const lines = [
    table.title,
    table.columns
      .map((c, i) => align(c, i, true))
      .join('  ')
      .trimEnd(),
  ];
  lines.push(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const row of cells)
    lines.push(
      row
        .map((c, i) => align(c, i))
        .join('  ')
        .trimEnd(),
    );
  for (const note of table.notes ?? []) lines.push(note);
  return lines.join('\n');
}

export function renderVerdicts(verdicts: Verdict[]): string {
  const width = Math.max(0, ...verdicts.map((v) => (v.module ? v.module.length + 2 : 0)));
  return verdicts.map((v) => `${v.pass ? 'PASS' : 'FAIL'}  ${v.module ? `${`[${v.module}]`.padEnd(width)} ` : ''}${v.target}: ${v.detail}`).join('\n');
}

/** The closing lines of a run: every module's outcome and the count of targets met. */
export function renderSummary(results: { name: string; report?: BenchReport; error?: string; seconds: number }[], verdicts: Verdict[]): string {
  const pass = verdicts.filter((v) => v.pass).length;
  const failed = verdicts.filter((v) => !v.pass);
  const modules = results.map((r) => {
    const mine = verdicts.filter((v) => v.module === r.name);
    const outcome = r.error
      ? `ERROR (${r.error.split('\n')[0]})`
      : r.report?.skipped
        ? `SKIPPED (${r.report.skipped})`
        : mine.length === 0
          ? 'no targets'
          : mine.every((v) => v.pass)
            ? `PASS ${mine.length}/${mine.length}`
            : `FAIL ${mine.filter((v) => v.pass).length}/${mine.length}`;
    return `  ${r.name.padEnd(10)} ${outcome}  (${r.seconds.toFixed(0)} s)`;
  });
  const headline =
    `Summary: ${pass}/${verdicts.length} targets met` +
    (failed.length ? `; missed: ${failed.map((v) => `[${v.module}] ${v.target}`).join('; ')}` : '') +
    (results.some((r) => r.error || r.report?.skipped) ? '; some modules did not measure (below)' : '');
  return [headline, ...modules].join('\n');
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}

export function fmtMs(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}

export function fmtRatio(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(2)}×` : '–';
}

export function fmtMb(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : '–';
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
