// Classification and volume rules applied to a result before the detectors see it: fields
// classified above the caller's clearance are withheld, results are cut to their tool's
// limits (and say so), and aggregate-only tools return a summary of their rows instead of
// the rows.

import { exceeds, maxClassification, type Classification } from './classification.js';
import type { OutputLimits } from './config-schema.js';
import type { RedactionReport } from './report.js';

export interface ShapeRules {
  /** Member name → classification (structured fields, database columns). */
  fields?: Readonly<Record<string, Classification>> | undefined;
  limits?: OutputLimits | undefined;
  aggregateOnly?: boolean | undefined;
}

/** Placeholder of a withheld field. */
export function withheldPlaceholder(classification: Classification): string {
  return `[WITHHELD:${classification}]`;
}

/** JSON text longer than this is not parsed to apply field rules (it is cut by limits first). */
const MAX_JSON_TEXT = 4 << 20;

interface Acc {
  withheldFields: number;
  names: Set<string>;
  rows?: [number, number];
  aggregated?: number;
}

/**
 * Member name → classification, for lookups by name: the configured keys as written and
 * lower-cased, and for `table.column` keys (database columns) the column name alone, at the
 * strictest level any key gives it. A result's member names are all a result says about where
 * a value came from, so a column classified in one table is withheld wherever its name appears.
 */
function fieldLevels(fields: Readonly<Record<string, Classification>>): Map<string, Classification> {
  const levels = new Map<string, Classification>();
  const add = (name: string, level: Classification) => {
    const known = levels.get(name);
    levels.set(name, known === undefined ? level : maxClassification(known, level));
  };
  for (const [key, level] of Object.entries(fields)) {
    add(key, level);
    add(key.toLowerCase(), level);
    const dot = key.lastIndexOf('.');
    if (dot >= 0 && dot < key.length - 1) add(key.slice(dot + 1).toLowerCase(), level);
  }
  return levels;
}

function levelOf(levels: ReadonlyMap<string, Classification>, name: string): Classification | undefined {
  return levels.get(name) ?? levels.get(name.toLowerCase());
}

function withholdFields(value: unknown, fields: ReadonlyMap<string, Classification>, clearance: Classification, acc: Acc, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const next = withholdFields(item, fields, clearance, acc, depth + 1);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? out : value;
  }
  const table = tabular(value);
  if (table) return withholdColumns(table, fields, clearance, acc);
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    const level = levelOf(fields, key);
    let next: unknown;
    if (level !== undefined && exceeds(level, clearance) && member !== null && member !== undefined) {
      next = withheldPlaceholder(level);
      acc.withheldFields++;
      acc.names.add(key);
    } else {
      next = withholdFields(member, fields, clearance, acc, depth + 1);
    }
    if (next !== member) changed = true;
    Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return changed ? out : value;
}

/** A table as database tools return it: column names, and rows as arrays in that order. */
interface Tabular {
  value: Record<string, unknown>;
  columns: string[];
  rows: unknown[][];
}

function tabular(value: unknown): Tabular | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const { columns, rows } = v;
  if (!Array.isArray(columns) || !Array.isArray(rows) || columns.length === 0) return undefined;
  if (!columns.every((c) => typeof c === 'string') || !rows.every((r) => Array.isArray(r))) return undefined;
  return { value: v, columns: columns as string[], rows: rows as unknown[][] };
}

function withTabularRows(table: Tabular, rows: unknown): Record<string, unknown> {
  // A summary replaces the whole table: its other members (row counts, truncation notes) are
  // facts about the rows, and the summary decides which of those may be told.
  if (rows !== null && typeof rows === 'object' && !Array.isArray(rows) && (rows as { aggregateOnly?: unknown }).aggregateOnly === true) {
    return { columns: table.columns, rows };
  }
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(table.value)) {
    Object.defineProperty(out, key, { value: key === 'rows' ? rows : member, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function withholdColumns(table: Tabular, fields: ReadonlyMap<string, Classification>, clearance: Classification, acc: Acc): unknown {
  const withheld = table.columns.map((name) => {
    const level = levelOf(fields, name);
    return level !== undefined && exceeds(level, clearance) ? level : undefined;
  });
  if (withheld.every((w) => w === undefined)) return table.value;
  const rows = table.rows.map((row) =>
    row.map((cell, i) => {
      const level = withheld[i];
      if (level === undefined || cell === null || cell === undefined) return cell;
      acc.withheldFields++;
      acc.names.add(table.columns[i] as string);
      return withheldPlaceholder(level);
    }),
  );
  return withTabularRows(table, rows);
}

/** Arrays of rows (objects) in a structured value, at most two levels down: `rows`, `items`, a top-level array. */
function mapRowArrays(value: unknown, fn: (rows: unknown[]) => unknown, depth = 0): unknown {
  if (Array.isArray(value)) return value.length > 0 && value.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r)) ? fn(value) : value;
  if (value === null || typeof value !== 'object' || depth >= 2) return value;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    const next = mapRowArrays(member, fn, depth + 1);
    if (next !== member) changed = true;
    Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return changed ? out : value;
}

/**
 * Summaries of fewer rows than this say only that: a count of 1 after `WHERE name = 'Bob'`, or
 * the min and max of two rows, are the row values themselves.
 */
export const MIN_SUMMARY_ROWS = 5;

/**
 * Counts and summaries of rows, no row values: per column, non-null and distinct counts,
 * numeric min/max. Fewer than {@link MIN_SUMMARY_ROWS} rows give only `rowCount: "<5"`.
 */
export function summarizeRows(rows: readonly unknown[]): Record<string, unknown> {
  if (rows.length < MIN_SUMMARY_ROWS) {
    return { aggregateOnly: true, rowCount: `<${MIN_SUMMARY_ROWS}`, note: `fewer than ${MIN_SUMMARY_ROWS} rows: no per-column summary` };
  }
  const columns: Record<string, { nonNull: number; distinct: number; min?: number; max?: number }> = {};
  const seen = new Map<string, Set<string>>();
  for (const row of rows) {
    for (const [key, v] of Object.entries(row as Record<string, unknown>)) {
      const col = (columns[key] ??= { nonNull: 0, distinct: 0 });
      if (v === null || v === undefined) continue;
      col.nonNull++;
      let set = seen.get(key);
      if (!set) seen.set(key, (set = new Set()));
      // Distinct counts stop at 10,000 values per column (bounded memory).
      if (set.size < 10_000) set.add(typeof v === 'object' ? JSON.stringify(v) : String(v));
      col.distinct = set.size;
      if (typeof v === 'number' && Number.isFinite(v)) {
        col.min = col.min === undefined ? v : Math.min(col.min, v);
        col.max = col.max === undefined ? v : Math.max(col.max, v);
      }
    }
  }
  return { aggregateOnly: true, rowCount: rows.length, columns };
}

/** Applies `fn` to the rows of a table result (top level or one level down), as objects or arrays. */
function mapTables(value: unknown, fn: (rows: unknown[], table: Tabular | undefined) => unknown): unknown {
  const table = tabular(value);
  if (table) {
    const next = fn(table.rows, table);
    return next === table.rows ? value : withTabularRows(table, next);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      const inner = tabular(member);
      let next: unknown = member;
      if (inner) {
        const rows = fn(inner.rows, inner);
        if (rows !== inner.rows) next = withTabularRows(inner, rows);
      }
      if (next !== member) changed = true;
      Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
    }
    if (changed) return out;
  }
  return mapRowArrays(value, (rows) => fn(rows, undefined));
}

function asObjects(rows: unknown[], table: Tabular | undefined): unknown[] {
  if (!table) return rows;
  return rows.map((row) => {
    const o: Record<string, unknown> = {};
    (row as unknown[]).forEach((cell, i) => {
      Object.defineProperty(o, table.columns[i] ?? `column${i + 1}`, { value: cell, enumerable: true, writable: true, configurable: true });
    });
    return o;
  });
}

function applyStructured(value: unknown, rules: ShapeRules, clearance: Classification, acc: Acc): unknown {
  let out = value;
  if (rules.aggregateOnly) {
    out = mapTables(out, (rows, table) => {
      // The same rows often come twice (structured and as JSON text): the report counts them once.
      acc.aggregated = Math.max(acc.aggregated ?? 0, rows.length);
      return summarizeRows(asObjects(rows, table));
    });
  }
  const maxRows = rules.limits?.maxRows;
  if (maxRows !== undefined) {
    out = mapTables(out, (rows) => {
      if (!Array.isArray(rows) || rows.length <= maxRows) return rows;
      acc.rows = [maxRows, rows.length];
      return rows.slice(0, maxRows);
    });
  }
  if (rules.fields && Object.keys(rules.fields).length > 0) out = withholdFields(out, fieldLevels(rules.fields), clearance, acc, 0);
  return out;
}

function cutUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // A cut inside a multi-byte character drops that character (U+FFFD would be invented data).
  return bytes
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

type ToolResult = { content?: unknown; structuredContent?: unknown; _meta?: unknown; [k: string]: unknown };

/**
 * Applies `rules` to a tool result (or any result with `content` / `structuredContent`), and
 * records what it did in `report`. Returns the result itself when nothing applied.
 */
export function shapeResult<T>(result: T, rules: ShapeRules, clearance: Classification, report: RedactionReport): T {
  if (result === null || typeof result !== 'object') return result;
  const hasFields = rules.fields !== undefined && Object.values(rules.fields).some((c) => exceeds(c, clearance));
  if (!hasFields && !rules.aggregateOnly && rules.limits === undefined) return result;
  const r = result as ToolResult;
  const acc: Acc = { withheldFields: 0, names: new Set() };
  const out: ToolResult = { ...r };
  const relevant: ShapeRules = { ...rules, ...(hasFields ? {} : { fields: undefined }) };
  if (r.structuredContent !== undefined) out.structuredContent = applyStructured(r.structuredContent, relevant, clearance, acc);
  const notes: string[] = [];
  if (Array.isArray(r.content)) {
    let items = r.content as unknown[];
    const maxItems = rules.limits?.maxItems;
    if (maxItems !== undefined && items.length > maxItems) {
      report.truncated = { ...report.truncated, items: [maxItems, items.length] };
      notes.push(`${maxItems} of ${items.length} content items shown (limit maxItems=${maxItems})`);
      items = items.slice(0, maxItems);
    }
    let budget = rules.limits?.maxBytes ?? Number.POSITIVE_INFINITY;
    let total = 0;
    let kept = 0;
    items = items.map((item) => {
      const it = item as { type?: unknown; text?: unknown };
      if (it === null || typeof it !== 'object' || it.type !== 'text' || typeof it.text !== 'string') return item;
      let text = it.text;
      const trimmed = text.trimStart();
      if (
        (trimmed.startsWith('{') || trimmed.startsWith('[')) &&
        text.length <= MAX_JSON_TEXT &&
        (relevant.fields || rules.aggregateOnly || rules.limits?.maxRows !== undefined)
      ) {
        try {
          const parsed: unknown = JSON.parse(text);
          const shaped = applyStructured(parsed, relevant, clearance, acc);
          if (shaped !== parsed) text = JSON.stringify(shaped);
        } catch {
          // Not JSON after all: limits still apply to it as text.
        }
      }
      const size = Buffer.byteLength(text, 'utf8');
      total += size;
      if (size > budget) {
        text = cutUtf8(text, budget);
        budget = 0;
      } else budget -= size;
      kept += Buffer.byteLength(text, 'utf8');
      return text === it.text ? item : { ...it, text };
    });
    if (kept < total) {
      report.truncated = { ...report.truncated, bytes: [kept, total] };
      notes.push(`${kept} of ${total} bytes of text shown (limit maxBytes=${rules.limits?.maxBytes})`);
    }
    if (acc.rows) notes.push(`${acc.rows[0]} of ${acc.rows[1]} rows shown (limit maxRows=${rules.limits?.maxRows})`);
    if (acc.aggregated !== undefined) notes.push(`rows replaced by counts and summaries (aggregate-only tool, ${acc.aggregated} rows)`);
    if (notes.length > 0) items = [...items, { type: 'text', text: `[Gatehouse: partial result: ${notes.join('; ')}]` }];
    out.content = items;
  }
  if (acc.rows) report.truncated = { ...report.truncated, rows: acc.rows };
  if (acc.aggregated !== undefined) report.aggregated = acc.aggregated;
  if (acc.withheldFields > 0) report.withheld = { fields: acc.withheldFields, names: [...acc.names].sort(), clearance };
  if (notes.length > 0 || acc.rows || acc.aggregated !== undefined) {
    const meta = r._meta !== null && typeof r._meta === 'object' ? (r._meta as Record<string, unknown>) : {};
    out._meta = { ...meta, 'gatehouse/partial': { truncated: report.truncated ?? null, aggregateOnly: acc.aggregated !== undefined } };
  }
  return out as T;
}
