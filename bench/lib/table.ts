import type { Table, Verdict } from './types.ts';

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
  const lines = [table.title, table.columns.map((c, i) => align(c, i, true)).join('  ').trimEnd()];
  lines.push(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const row of cells) lines.push(row.map((c, i) => align(c, i)).join('  ').trimEnd());
  for (const note of table.notes ?? []) lines.push(note);
  return lines.join('\n');
}

export function renderVerdicts(verdicts: Verdict[]): string {
  return verdicts.map((v) => `${v.pass ? 'PASS' : 'FAIL'}  ${v.target}: ${v.detail}`).join('\n');
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
