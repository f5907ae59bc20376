// How both stores keep an oidc-provider artifact: the id only as a hash, the payload without its
// `jti`, and the fields oidc-provider looks artifacts up by in their own columns.

import { createHash } from 'node:crypto';

/** SHA-256 of an artifact id: lookups work, but the table holds no usable code or token. */
export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * The values of `INSERT INTO oauth_artifacts (model, id_hash, payload, grant_id, account_id,
 * client_id, uid, user_code, …, expires_at)`: the payload is stored without its `jti` (the id),
 * which is put back from the caller's id on read, so knowing the row is not knowing the token.
 */
export function artifactValues(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null): (string | number | null)[] {
  const { jti: _id, ...rest } = payload;
  return [
    model,
    hashId(id),
    JSON.stringify(rest),
    model === 'Grant' ? id : str(payload.grantId),
    str(payload.accountId),
    str(payload.clientId ?? payload.client_id),
    str(payload.uid),
    str(payload.userCode),
    expiresAt,
  ];
}

/** The columns an artifact is read back from. */
export interface ArtifactReadRow {
  payload: string;
  consumed_at: number | null;
  expires_at: number | null;
}

/**
 * The payload oidc-provider gets back: none once expired, its `jti` put back from the caller's
 * id (the artifacts that have one: those with a `kind`), and `consumed` in seconds once used.
 */
export function artifactFromRow(row: ArtifactReadRow | undefined, id: string | undefined, now: number): Record<string, unknown> | undefined {
  if (!row) return undefined;
  if (row.expires_at !== null && row.expires_at <= now) return undefined;
  const payload = JSON.parse(row.payload) as Record<string, unknown>;
  if (id !== undefined && payload.kind !== undefined) payload.jti = id;
  if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
  return payload;
}
