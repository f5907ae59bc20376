// The approval row as both stores keep it and its mapping to the port's record. The dialects
// differ in two ways only: a flag is BOOLEAN in PostgreSQL and INTEGER 0/1 in SQLite, and the
// free-text reason and note are JSON text in PostgreSQL (`reason_json`, `note_json`) and plain text
// in SQLite (`reason`, `note`). Each store passes its dialect; the row types, the column order and
// the mapping live here once, so the two stores cannot drift apart.

import type { ApprovalRecord, ApprovalStatus } from '../ports/index.js';

/** The columns both stores name alike; `F` is how the dialect stores a flag. */
export interface ApprovalColumns<F> {
  id: string;
  status: string;
  level: string;
  requester_json: string;
  server: string;
  target: string;
  method: string;
  args_json: string;
  args_hash: string;
  policy: string | null;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  decided_by: string | null;
  decided_via: string | null;
  break_glass: F;
  used_at: number | null;
  used_by: string | null;
  client: string;
  any_client: F;
  args_format: string;
  args_masked: F;
}

/** A whole approvals row as PostgreSQL returns it. */
export interface PostgresApprovalRow extends ApprovalColumns<boolean> {
  reason_json: string | null;
  note_json: string | null;
}

/** A whole approvals row as SQLite returns it. */
export interface SqliteApprovalRow extends ApprovalColumns<number> {
  reason: string | null;
  note: string | null;
}

/** How one SQL dialect stores a flag and a free-text value; `R` is its whole row. */
export interface ApprovalDialect<F, R extends ApprovalColumns<F> = ApprovalColumns<F>> {
  flag(value: boolean): F;
  isSet(value: F): boolean;
  text(value: string | undefined): string | null;
  fromText(value: string | null): string | undefined;
  /** The row's reason and note columns, as stored. */
  texts(row: R): { reason: string | null; note: string | null };
}

export const POSTGRES_APPROVALS: ApprovalDialect<boolean, PostgresApprovalRow> = {
  flag: (value) => value,
  isSet: (value) => value,
  text: (value) => (value === undefined ? null : JSON.stringify(value)),
  fromText: (value) => (value === null ? undefined : (JSON.parse(value) as string)),
  texts: (row) => ({ reason: row.reason_json, note: row.note_json }),
};

export const SQLITE_APPROVALS: ApprovalDialect<number, SqliteApprovalRow> = {
  flag: (value) => (value ? 1 : 0),
  isSet: (value) => value === 1,
  text: (value) => value ?? null,
  fromText: (value) => opt(value),
  texts: (row) => ({ reason: row.reason, note: row.note }),
};

/** Stored for "no client id": the column is part of a unique index, where NULLs would never collide. */
export const clientKey = (client: string | undefined): string => client ?? '';

const opt = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

/** The row as an approval record. */
export function approvalFromRow<F, R extends ApprovalColumns<F>>(row: R, dialect: ApprovalDialect<F, R>): ApprovalRecord {
  const texts = dialect.texts(row);
  return {
    id: row.id,
    status: row.status as ApprovalStatus,
    level: row.level as ApprovalRecord['level'],
    requester: JSON.parse(row.requester_json) as ApprovalRecord['requester'],
    server: row.server,
    target: row.target,
    method: row.method,
    args: JSON.parse(row.args_json) as unknown,
    argsHash: row.args_hash,
    reason: dialect.fromText(texts.reason),
    policy: opt(row.policy),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedAt: opt(row.decided_at),
    decidedBy: opt(row.decided_by),
    decidedVia: opt(row.decided_via) as ApprovalRecord['decidedVia'],
    note: dialect.fromText(texts.note),
    breakGlass: dialect.isSet(row.break_glass),
    anyClient: dialect.isSet(row.any_client),
    argsFormat: row.args_format === 'exact-v1' ? 'exact-v1' : 'redacted',
    argsMasked: dialect.isSet(row.args_masked),
    usedAt: opt(row.used_at),
    usedBy: opt(row.used_by),
  };
}

/**
 * The values of a new pending request, in the order of the INSERT's columns `id, level, requester,
 * requester_json, client, server, target, method, args_json, args_format, args_masked, args_hash,
 * <reason column>, policy, created_at, expires_at` (status, break_glass and any_client are literals).
 */
export function pendingValues<F>(r: ApprovalRecord, dialect: ApprovalDialect<F>): (string | number | null | F)[] {
  return [
    r.id,
    r.level,
    r.requester.sub,
    JSON.stringify(r.requester),
    clientKey(r.requester.client),
    r.server,
    r.target,
    r.method,
    JSON.stringify(r.args ?? null),
    r.argsFormat,
    dialect.flag(r.argsMasked),
    r.argsHash,
    dialect.text(r.reason),
    r.policy ?? null,
    r.createdAt,
    r.expiresAt,
  ];
}
