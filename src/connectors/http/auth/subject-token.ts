import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { KeyRing } from '../../../tokens/index.js';
import { JWT_TOKEN_TYPE, type SubjectTokenSource } from './token-exchange.js';

/** Lifetime of a subject token: it only has to reach the STS. */
const SUBJECT_TTL_S = 60;

/**
 * Subject tokens signed with Gatehouse's access-token key (the STS trusts Gatehouse's JWKS):
 * `iss` is Gatehouse, `sub` the user, `aud` the STS (its issuer or token endpoint), the
 * requested audience and scopes as claims, the actor chain, and a one-minute lifetime. The audience is never Gatehouse itself, so the token
 * is useless as a Gatehouse access token.
 */
export function signedSubjectTokens(keys: Pick<KeyRing, 'signingKey'>, issuer: string): SubjectTokenSource {
  return async ({ user, sts, audience, scopes }) => {
    const { kid, key } = keys.signingKey();
    const token = await new SignJWT({
      scope: scopes.join(' ') || undefined,
      ...(user.act.length > 0 ? { act: { sub: user.act[0] } } : {}),
      requested_audience: audience,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'gatehouse-subject+jwt' })
      .setIssuer(issuer)
      .setSubject(user.sub)
      .setAudience(sts)
      .setIssuedAt()
      .setExpirationTime(`${SUBJECT_TTL_S}s`)
      .setJti(randomUUID())
      .sign(key);
    return { token, type: JWT_TOKEN_TYPE };
  };
}
