import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { KeyRing } from './key-ring.js';

export interface AccessTokenRequest {
  sub: string;
  groups?: readonly string[];
  /** Lifetime in ms; capped at `maxTtlMs`. */
  ttlMs: number;
  clientId?: string;
  /** Space-separated scopes; defaults to `mcp` (the whole endpoint, subject to policy). */
  scope?: string;
  act?: Record<string, unknown>;
  authorizationDetails?: readonly Record<string, unknown>[];
  extraClaims?: Record<string, unknown>;
}

export interface IssuerSettings {
  issuer: string;
  /** The resource the token is for: `${publicUrl}/mcp`. */
  audience: string;
  maxTtlMs: number;
}

/** Signs an RFC 9068 JWT access token (typ `at+jwt`, EdDSA). */
export async function issueAccessToken(
  keys: KeyRing,
  settings: IssuerSettings,
  request: AccessTokenRequest,
): Promise<{ token: string; jti: string; expiresAt: number }> {
  if (!(request.ttlMs > 0)) throw new RangeError('token lifetime must be positive');
  if (request.ttlMs > settings.maxTtlMs) throw new RangeError(`token lifetime may not exceed ${settings.maxTtlMs / 60_000} minutes`);
  const { kid, key } = keys.signingKey();
  const now = Math.floor(Date.now() / 1000);
  const exp = now + Math.floor(request.ttlMs / 1000);
  const jti = randomUUID();
  const claims: Record<string, unknown> = {
    ...request.extraClaims,
    client_id: request.clientId ?? 'gatehouse-cli',
    groups: [...(request.groups ?? [])],
  };
  // `mcp` is the base scope every token for /mcp needs; narrower tokens add server:/tool: scopes.
  const scope = request.scope ?? 'mcp';
  if (scope) claims.scope = scope;
  if (request.act) claims.act = request.act;
  if (request.authorizationDetails) claims.authorization_details = request.authorizationDetails;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
    .setIssuer(settings.issuer)
    .setSubject(request.sub)
    .setAudience(settings.audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key);
  return { token, jti, expiresAt: exp * 1000 };
}
