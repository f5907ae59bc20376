import type { PostgresMigration } from './index.js';

/**
 * Every table the SQLite store has, in PostgreSQL terms: BIGINT epoch milliseconds, BYTEA for
 * sealed bytes, BOOLEAN flags, TEXT for JSON kept byte-for-byte (the audit body is hashed as
 * stored, so it is never re-encoded as jsonb). `ord` identity columns give the insertion order
 * SQLite's rowid gives. Text sort orders use COLLATE "C", SQLite's binary order.
 */
export const baseline: PostgresMigration = {
  id: '0001-baseline',
  sql: `
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE storage_probe (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  written_at BIGINT NOT NULL
);

CREATE TABLE signing_keys (
  kid         TEXT PRIMARY KEY,
  use         TEXT NOT NULL,
  alg         TEXT NOT NULL,
  public_jwk  TEXT NOT NULL,
  private_jwk TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  retired_at  BIGINT,
  expires_at  BIGINT
);
CREATE INDEX signing_keys_use ON signing_keys (use, retired_at);

-- seq is the chain order. sub/tool are copied from the hashed body on insert, for indexing.
CREATE TABLE audit_records (
  seq       BIGINT PRIMARY KEY,
  ts        BIGINT NOT NULL,
  kind      TEXT NOT NULL,
  body      TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL,
  sub       TEXT,
  tool      TEXT
);
CREATE INDEX audit_records_ts ON audit_records (ts);
CREATE INDEX audit_records_sub ON audit_records (sub, ts);
CREATE INDEX audit_records_tool ON audit_records (tool, ts);

-- The one row every append locks (SELECT … FOR UPDATE): appends from every node serialise
-- here, so each batch links to the head the previous one left.
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1)
);
INSERT INTO audit_head (id) VALUES (1);

CREATE TABLE audit_checkpoints (
  seq       BIGINT PRIMARY KEY,
  ts        BIGINT NOT NULL,
  hash      TEXT NOT NULL,
  kid       TEXT NOT NULL,
  signature TEXT NOT NULL
);

CREATE TABLE users (
  name            TEXT PRIMARY KEY,
  source          TEXT NOT NULL CHECK (source IN ('local', 'federated')),
  groups          TEXT NOT NULL DEFAULT '[]',
  password_hash   TEXT,
  totp_secret     TEXT,
  totp_last_step  BIGINT,
  disabled_at     BIGINT,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until    BIGINT,
  last_login_at   BIGINT,
  attributes      TEXT NOT NULL DEFAULT '{}',
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
);

CREATE TABLE federated_identities (
  issuer     TEXT NOT NULL,
  subject    TEXT NOT NULL,
  name       TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX federated_identities_name ON federated_identities (name);

-- id_hash is SHA-256 of the artifact id: codes, refresh tokens and session ids are bearer values.
CREATE TABLE oauth_artifacts (
  model       TEXT NOT NULL,
  id_hash     TEXT NOT NULL,
  payload     TEXT NOT NULL,
  grant_id    TEXT,
  account_id  TEXT,
  client_id   TEXT,
  uid         TEXT,
  user_code   TEXT,
  consumed_at BIGINT,
  expires_at  BIGINT,
  PRIMARY KEY (model, id_hash)
);
CREATE INDEX oauth_artifacts_grant ON oauth_artifacts (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oauth_artifacts_account ON oauth_artifacts (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX oauth_artifacts_client ON oauth_artifacts (client_id) WHERE client_id IS NOT NULL;
CREATE INDEX oauth_artifacts_uid ON oauth_artifacts (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oauth_artifacts_user_code ON oauth_artifacts (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oauth_artifacts_expiry ON oauth_artifacts (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE oauth_consents (
  sub           TEXT NOT NULL,
  client_id     TEXT NOT NULL,
  client_name   TEXT NOT NULL,
  redirect_host TEXT NOT NULL,
  scopes        TEXT NOT NULL DEFAULT '[]',
  created_at    BIGINT NOT NULL,
  last_used_at  BIGINT NOT NULL,
  PRIMARY KEY (sub, client_id)
);
CREATE INDEX oauth_consents_client ON oauth_consents (client_id);

CREATE TABLE revocations (
  id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('token', 'user', 'client', 'grant', 'session')),
  value      TEXT NOT NULL,
  revoked_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_by TEXT NOT NULL,
  reason     TEXT
);
CREATE INDEX revocations_expiry ON revocations (expires_at);

CREATE TABLE vault_secrets (
  name         TEXT PRIMARY KEY,
  version      INTEGER NOT NULL,
  kek_id       TEXT NOT NULL,
  wrapped_key  BYTEA NOT NULL,
  iv           BYTEA NOT NULL,
  ciphertext   BYTEA NOT NULL,
  tag          BYTEA NOT NULL,
  created_at   BIGINT NOT NULL,
  rotated_at   BIGINT NOT NULL,
  last_used_at BIGINT,
  used_by      TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE broker_leases (
  id             TEXT PRIMARY KEY,
  connector      TEXT NOT NULL,
  actor          TEXT NOT NULL,
  purpose        TEXT NOT NULL,
  resource       TEXT NOT NULL,
  issued_at      BIGINT NOT NULL,
  expires_at     BIGINT NOT NULL,
  state          TEXT NOT NULL,
  revoked_at     BIGINT,
  revoke_reason  TEXT,
  owner_pid      INTEGER NOT NULL,
  owner_instance TEXT NOT NULL
);
CREATE INDEX broker_leases_open ON broker_leases (state, expires_at);
CREATE INDEX broker_leases_actor ON broker_leases (actor, state);

CREATE TABLE approvals (
  id             TEXT PRIMARY KEY,
  ord            BIGINT GENERATED ALWAYS AS IDENTITY,
  status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'used')),
  level          TEXT NOT NULL CHECK (level IN ('four-eyes', 'confirm')),
  requester      TEXT NOT NULL,
  requester_json TEXT NOT NULL,
  client         TEXT NOT NULL DEFAULT '',
  server         TEXT NOT NULL,
  target         TEXT NOT NULL,
  method         TEXT NOT NULL,
  args_json      TEXT NOT NULL,
  args_format    TEXT NOT NULL DEFAULT 'redacted' CHECK (args_format IN ('redacted', 'exact-v1')),
  args_masked    BOOLEAN NOT NULL DEFAULT FALSE,
  args_hash      TEXT NOT NULL,
  -- reason and note are untrusted free text, kept as JSON strings: PostgreSQL text cannot hold
  -- U+0000, JSON can (escaped), so any text the SQLite store keeps is kept here too.
  reason_json    TEXT,
  policy         TEXT,
  created_at     BIGINT NOT NULL,
  expires_at     BIGINT NOT NULL,
  decided_at     BIGINT,
  decided_by     TEXT,
  decided_via    TEXT,
  note_json      TEXT,
  break_glass    BOOLEAN NOT NULL DEFAULT FALSE,
  any_client     BOOLEAN NOT NULL DEFAULT FALSE,
  used_at        BIGINT,
  used_by        TEXT
);
-- At most one open request per exact call: retries join it instead of paging approvers again.
CREATE UNIQUE INDEX approvals_one_pending ON approvals (requester, client, target, args_hash) WHERE status = 'pending';
CREATE INDEX approvals_call ON approvals (requester, target, args_hash, created_at);
CREATE INDEX approvals_status ON approvals (status, created_at);

CREATE TABLE tool_pins (
  server        TEXT NOT NULL,
  tool          TEXT NOT NULL,
  digest        TEXT NOT NULL,
  ord           BIGINT GENERATED ALWAYS AS IDENTITY,
  definition    TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('approved', 'pending', 'superseded')),
  reason        TEXT NOT NULL CHECK (reason IN ('first-start', 'trust-on-first-use', 'operator', 'new', 'changed', 'poisoned')),
  findings_json TEXT NOT NULL DEFAULT '[]',
  first_seen_at BIGINT NOT NULL,
  decided_at    BIGINT,
  decided_by    TEXT,
  PRIMARY KEY (server, tool, digest)
);
CREATE UNIQUE INDEX tool_pins_one_approved ON tool_pins (server, tool) WHERE state = 'approved';
CREATE TABLE tool_pin_servers (
  server        TEXT PRIMARY KEY,
  first_seen_at BIGINT NOT NULL
);

-- "user" is reserved in PostgreSQL: the column is user_name here.
CREATE TABLE connections (
  user_name         TEXT NOT NULL,
  server            TEXT NOT NULL,
  provider          TEXT NOT NULL,
  scopes            TEXT NOT NULL DEFAULT '[]',
  refresh_sealed    TEXT,
  access_sealed     TEXT,
  access_expires_at BIGINT,
  generation        BIGINT NOT NULL DEFAULT 1,
  created_at        BIGINT NOT NULL,
  refreshed_at      BIGINT,
  lock_owner        TEXT,
  lock_until        BIGINT,
  PRIMARY KEY (user_name, server)
);
CREATE TABLE connection_requests (
  state           TEXT PRIMARY KEY,
  user_name       TEXT NOT NULL,
  server          TEXT NOT NULL,
  session_id      TEXT NOT NULL,
  verifier_sealed TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  expires_at      BIGINT NOT NULL
);
CREATE INDEX connection_requests_expiry ON connection_requests (expires_at);
`,
};
