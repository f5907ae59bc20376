import type { Migration } from './index.js';

/**
 * Approvals bound to the OAuth client as well as the user, and the exact arguments kept with
 * each request.
 *
 * - `client`: the requesting client id ('' when the token named none). One open request per
 *   user, client, target and arguments; an approval releases only that client's call unless
 *   the approver chose `any_client`.
 * - `args_format`: 'exact-v1' for requests that keep the exact arguments (held credentials
 *   masked, `args_masked`); rows from before keep their redacted copy as 'redacted' and are
 *   shown as such (approving them needs an acknowledgement).
 */
export const approvalClient: Migration = {
  id: '0006-approval-client',
  sql: `
ALTER TABLE approvals ADD COLUMN client TEXT NOT NULL DEFAULT '';
UPDATE approvals SET client = coalesce(json_extract(requester_json, '$.client'), '');
ALTER TABLE approvals ADD COLUMN any_client INTEGER NOT NULL DEFAULT 0 CHECK (any_client IN (0, 1));
ALTER TABLE approvals ADD COLUMN args_format TEXT NOT NULL DEFAULT 'redacted' CHECK (args_format IN ('redacted', 'exact-v1'));
ALTER TABLE approvals ADD COLUMN args_masked INTEGER NOT NULL DEFAULT 0 CHECK (args_masked IN (0, 1));
DROP INDEX approvals_one_pending;
CREATE UNIQUE INDEX approvals_one_pending ON approvals (requester, client, target, args_hash) WHERE status = 'pending';
`,
};
