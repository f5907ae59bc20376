import type { Migration } from './index.js';

export const core: Migration = {
  id: '0001-core',
  sql: `
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE signing_keys (
  kid         TEXT PRIMARY KEY,
  use         TEXT NOT NULL,
  alg         TEXT NOT NULL,
  public_jwk  TEXT NOT NULL,
  private_jwk TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  retired_at  INTEGER,
  expires_at  INTEGER
) STRICT;
CREATE INDEX signing_keys_use ON signing_keys (use, retired_at);

-- One row per audit record; seq is the chain order. sub/tool are generated from the
-- hashed body so they can be indexed without becoming a second, editable source of truth.
CREATE TABLE audit_records (
  seq       INTEGER PRIMARY KEY,
  ts        INTEGER NOT NULL,
  kind      TEXT NOT NULL,
  body      TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL,
  sub       TEXT GENERATED ALWAYS AS (json_extract(body, '$.actor.sub')) VIRTUAL,
  tool      TEXT GENERATED ALWAYS AS (json_extract(body, '$.target.tool')) VIRTUAL
) STRICT;
CREATE INDEX audit_records_ts ON audit_records (ts);
CREATE INDEX audit_records_sub ON audit_records (sub, ts);
CREATE INDEX audit_records_tool ON audit_records (tool, ts);

CREATE TABLE audit_checkpoints (
  seq       INTEGER PRIMARY KEY,
  ts        INTEGER NOT NULL,
  hash      TEXT NOT NULL,
  kid       TEXT NOT NULL,
  signature TEXT NOT NULL
) STRICT;
`,
};
