import type { Migration } from './index.js';

export const identity: Migration = {
  id: '0002-identity',
  sql: `
-- Local and federated users. name is the token subject.
CREATE TABLE users (
  name            TEXT PRIMARY KEY,
  source          TEXT NOT NULL CHECK (source IN ('local', 'federated')),
  groups          TEXT NOT NULL DEFAULT '[]',
  password_hash   TEXT,
  totp_secret     TEXT,
  totp_last_step  INTEGER,
  disabled_at     INTEGER,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until    INTEGER,
  last_login_at   INTEGER,
  attributes      TEXT NOT NULL DEFAULT '{}',
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;

-- The authorization server's artifacts. id_hash is SHA-256 of the artifact id: codes, refresh
-- tokens and session ids are bearer values and are never stored as such.
CREATE TABLE oauth_artifacts (
  model       TEXT NOT NULL,
  id_hash     TEXT NOT NULL,
  payload     TEXT NOT NULL,
  grant_id    TEXT,
  account_id  TEXT,
  client_id   TEXT,
  uid         TEXT,
  user_code   TEXT,
  consumed_at INTEGER,
  expires_at  INTEGER,
  PRIMARY KEY (model, id_hash)
) STRICT;
CREATE INDEX oauth_artifacts_grant ON oauth_artifacts (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oauth_artifacts_account ON oauth_artifacts (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX oauth_artifacts_client ON oauth_artifacts (client_id) WHERE client_id IS NOT NULL;
CREATE INDEX oauth_artifacts_uid ON oauth_artifacts (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oauth_artifacts_expiry ON oauth_artifacts (expires_at) WHERE expires_at IS NOT NULL;

-- Per-user consent to clients (the "connected clients" page).
CREATE TABLE oauth_consents (
  sub           TEXT NOT NULL,
  client_id     TEXT NOT NULL,
  client_name   TEXT NOT NULL,
  redirect_host TEXT NOT NULL,
  scopes        TEXT NOT NULL DEFAULT '[]',
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER NOT NULL,
  PRIMARY KEY (sub, client_id)
) STRICT;
CREATE INDEX oauth_consents_client ON oauth_consents (client_id);

-- Revocations, written by the CLI or the gateway and read into memory by every node.
CREATE TABLE revocations (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  kind       TEXT NOT NULL CHECK (kind IN ('token', 'user', 'client', 'grant', 'session')),
  value      TEXT NOT NULL,
  revoked_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_by TEXT NOT NULL,
  reason     TEXT
) STRICT;
CREATE INDEX revocations_expiry ON revocations (expires_at);
`,
};
