import type { Migration } from './index.js';

/**
 * The vault (envelope-encrypted secrets) and the broker's lease records. Lease rows carry no
 * secret: they exist so a janitor can find and revoke what a crashed gateway left behind.
 */
export const vault: Migration = {
  id: '0002-vault',
  sql: `
CREATE TABLE vault_secrets (
  name         TEXT PRIMARY KEY,
  -- Incremented on every rotation; part of nothing secret, shown by \`vault list\`.
  version      INTEGER NOT NULL,
  -- Which key-encryption key wrapped the data key (a fingerprint, never the key).
  kek_id       TEXT NOT NULL,
  wrapped_key  BLOB NOT NULL,
  iv           BLOB NOT NULL,
  ciphertext   BLOB NOT NULL,
  tag          BLOB NOT NULL,
  created_at   INTEGER NOT NULL,
  rotated_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  -- JSON array of consumers (e.g. "servers.github.env.API_KEY") that resolved it.
  used_by      TEXT NOT NULL DEFAULT '[]'
) STRICT;

CREATE TABLE broker_leases (
  id            TEXT PRIMARY KEY,
  connector     TEXT NOT NULL,
  actor         TEXT NOT NULL,
  purpose       TEXT NOT NULL,
  -- What the lease created downstream (e.g. the PostgreSQL role name), for cleanup.
  resource      TEXT NOT NULL,
  issued_at     INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  -- 'active' (recorded before the downstream credential is created, so a crash at any point
  -- leaves a trace), 'revoked'.
  state         TEXT NOT NULL,
  revoked_at    INTEGER,
  revoke_reason TEXT,
  owner_pid     INTEGER NOT NULL,
  owner_instance TEXT NOT NULL
) STRICT;
CREATE INDEX broker_leases_open ON broker_leases (state, expires_at);
CREATE INDEX broker_leases_actor ON broker_leases (actor, state);
`,
};
