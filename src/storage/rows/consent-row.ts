// The consent row as both stores keep it (same columns in SQLite and PostgreSQL) and its mapping to
// the port's record: one definition, so the two stores cannot drift apart.

import type { ConsentRecord } from '../ports/index.js';

export interface ConsentRow {
  sub: string;
  client_id: string;
  client_name: string;
  redirect_host: string;
  scopes: string;
  created_at: number;
  last_used_at: number;
}

export function fromRow(row: ConsentRow): ConsentRecord {
  return {
    sub: row.sub,
    clientId: row.client_id,
    clientName: row.client_name,
    redirectHost: row.redirect_host,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}
