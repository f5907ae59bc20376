// How both stores keep a connection's sealed tokens and scopes in TEXT columns (SQLite and
// PostgreSQL alike): one encoding, so a data dir migrated between them reads back the same.

import type { ConnectionMetadata, ConnectionRecord, ConnectionTokens, PendingConnection, SealedSecret } from '../ports/index.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** The envelope parts as one TEXT column (never the plaintext). */
export function encodeSealed(sealed: SealedSecret | null): string | null {
  if (!sealed) return null;
  return JSON.stringify({ k: sealed.kekId, w: b64(sealed.wrappedKey), i: b64(sealed.iv), c: b64(sealed.ciphertext), t: b64(sealed.tag) });
}

export function decodeSealed(text: string | null): SealedSecret | null {
  if (!text) return null;
  const parts = JSON.parse(text) as { k: string; w: string; i: string; c: string; t: string };
  return {
    kekId: parts.k,
    wrappedKey: Buffer.from(parts.w, 'base64'),
    iv: Buffer.from(parts.i, 'base64'),
    ciphertext: Buffer.from(parts.c, 'base64'),
    tag: Buffer.from(parts.t, 'base64'),
  };
}

export function scopes(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

/** The columns of a connection row both stores name alike (the user's column is `user` in SQLite, `user_name` in PostgreSQL). */
export interface ConnectionColumns {
  server: string;
  provider: string;
  scopes: string;
  refresh_sealed: string | null;
  access_sealed: string | null;
  access_expires_at: number | null;
  generation: number;
  created_at: number;
  refreshed_at: number | null;
}

export function connectionFromRow(user: string, row: ConnectionColumns): ConnectionRecord {
  return {
    user,
    server: row.server,
    provider: row.provider,
    scopes: scopes(row.scopes),
    refreshToken: decodeSealed(row.refresh_sealed),
    accessToken: decodeSealed(row.access_sealed),
    accessExpiresAt: row.access_expires_at,
    generation: row.generation,
    createdAt: row.created_at,
    refreshedAt: row.refreshed_at,
  };
}

/** The columns of a pending connection request both stores name alike (the user's column differs as above). */
export interface ConnectionRequestColumns {
  state: string;
  server: string;
  session_id: string;
  verifier_sealed: string;
  created_at: number;
  expires_at: number;
}

/** The SELECT list of a connection row, given the dialect's user column. */
export const connectionColumns = (user: string): string =>
  `${user}, server, provider, scopes, refresh_sealed, access_sealed, access_expires_at, generation, created_at, refreshed_at`;

/** A row as a dialect names its user column `U`. */
export type ConnectionRow<U extends string> = ConnectionColumns & Record<U, string>;
export type ConnectionRequestRow<U extends string> = ConnectionRequestColumns & Record<U, string>;

export function pendingFromRow(user: string, row: ConnectionRequestColumns): PendingConnection {
  return {
    state: row.state,
    user,
    server: row.server,
    sessionId: row.session_id,
    verifier: decodeSealed(row.verifier_sealed) as SealedSecret,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** The values of `INSERT INTO connection_requests (state, <user>, server, session_id, verifier_sealed, created_at, expires_at)`. */
export const pendingValues = (p: PendingConnection): [string, string, string, string, string | null, number, number] => [
  p.state,
  p.user,
  p.server,
  p.sessionId,
  encodeSealed(p.verifier),
  p.createdAt,
  p.expiresAt,
];

/** A connection's tokens as the values of the columns `refresh_sealed, access_sealed, access_expires_at, scopes`. */
export const tokenValues = (t: ConnectionTokens): [string | null, string | null, number | null, string] => [
  encodeSealed(t.refreshToken),
  encodeSealed(t.accessToken),
  t.accessExpiresAt,
  JSON.stringify(t.scopes),
];

/** A connection as listings show it: whether it holds a refresh token, never the tokens. */
function connectionMetadata(record: ConnectionRecord): ConnectionMetadata {
  const { refreshToken, accessToken: _access, ...rest } = record;
  return { ...rest, hasRefreshToken: refreshToken !== null };
}

/** The row mappings of one dialect, given the name of its user column. */
function connectionDialect<U extends string>(user: U) {
  return {
    columns: connectionColumns(user),
    fromRow: (row: ConnectionRow<U>): ConnectionRecord => connectionFromRow(row[user], row),
    metadataFromRow: (row: ConnectionRow<U>): ConnectionMetadata => connectionMetadata(connectionFromRow(row[user], row)),
    fromRequestRow: (row: ConnectionRequestRow<U>): PendingConnection => pendingFromRow(row[user], row),
  };
}

/** PostgreSQL names the user column `user_name` (`user` is a reserved word there). */
export const POSTGRES_CONNECTIONS = connectionDialect('user_name');
export type PostgresConnectionRow = ConnectionRow<'user_name'>;
export type PostgresConnectionRequestRow = ConnectionRequestRow<'user_name'>;

export const SQLITE_CONNECTIONS = connectionDialect('user');
export type SqliteConnectionRow = ConnectionRow<'user'>;
export type SqliteConnectionRequestRow = ConnectionRequestRow<'user'>;
