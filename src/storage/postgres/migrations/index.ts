/**
 * PostgreSQL schema migrations, applied in `id` order under an advisory lock and recorded in
 * `schema_migrations`. Ids are `NNNN-room`, like the SQLite ones; the two schemas hold the same
 * data but are versioned separately (PostgreSQL started from the SQLite schema as it was).
 */
export interface PostgresMigration {
  id: string;
  sql: string;
}

import { baseline } from './0001-baseline.js';
import { changeNotify } from './0002-change-notify.js';
import { clusterState } from './0100-cluster-state.js';
import { mcpSessions } from './0101-mcp-sessions.js';

export const MIGRATIONS: readonly PostgresMigration[] = [baseline, changeNotify, clusterState, mcpSessions].sort((a, b) => a.id.localeCompare(b.id));
