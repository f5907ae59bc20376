import type { Migration } from './index.js';

/**
 * Users' connections to downstream OAuth providers.
 *
 * - `connections`: one row per user and server; tokens only in sealed form (JSON of the
 *   envelope parts). `lock_owner`/`lock_until` are the cross-process refresh lock: a process
 *   takes it with one conditional UPDATE, so several gateways sharing the data dir refresh a
 *   token once. `generation` moves on every token change.
 * - `connection_requests`: authorization requests in flight (state → user, server, browser
 *   session, sealed PKCE verifier), single use, short-lived.
 */
export const connections: Migration = {
  id: '0008-connections',
  sql: `
CREATE TABLE connections (
  user TEXT NOT NULL,
  server TEXT NOT NULL,
  provider TEXT NOT NULL,
  scopes TEXT NOT NULL DEFAULT '[]',
  refresh_sealed TEXT,
  access_sealed TEXT,
  access_expires_at INTEGER,
  generation INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  refreshed_at INTEGER,
  lock_owner TEXT,
  lock_until INTEGER,
  PRIMARY KEY (user, server)
) STRICT;
CREATE TABLE connection_requests (
  state TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  server TEXT NOT NULL,
  session_id TEXT NOT NULL,
  verifier_sealed TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX connection_requests_expiry ON connection_requests (expires_at);
`,
};
