import type { Migration } from './index.js';

/** Approval requests (with the policy and rate-limit tables of the same release). */
export const policy: Migration = {
  id: '0003-policy',
  sql: `
CREATE TABLE approvals (
  id            TEXT PRIMARY KEY,
  status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'used')),
  level         TEXT NOT NULL CHECK (level IN ('four-eyes', 'confirm')),
  requester     TEXT NOT NULL,
  requester_json TEXT NOT NULL,
  server        TEXT NOT NULL,
  target        TEXT NOT NULL,
  method        TEXT NOT NULL,
  args_json     TEXT NOT NULL,
  args_hash     TEXT NOT NULL,
  reason        TEXT,
  policy        TEXT,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  decided_at    INTEGER,
  decided_by    TEXT,
  decided_via   TEXT,
  note          TEXT,
  break_glass   INTEGER NOT NULL DEFAULT 0,
  used_at       INTEGER,
  used_by       TEXT
) STRICT;
-- At most one open request per exact call: retries join it instead of paging approvers again.
CREATE UNIQUE INDEX approvals_one_pending ON approvals (requester, target, args_hash) WHERE status = 'pending';
CREATE INDEX approvals_call ON approvals (requester, target, args_hash, created_at);
CREATE INDEX approvals_status ON approvals (status, created_at);
`,
};
