import type { KoaContextWithOIDC } from 'oidc-provider';
import { storeUnavailableFrom } from '../errors/index.js';
import type { AccessTokenVerifier, Principal } from '../tokens/index.js';

export interface JwtEndpointDeps {
  verifier: AccessTokenVerifier;
  /** Records a revocation of one access token (by jti) until it would have expired. */
  revokeToken(jti: string, expiresAt: number, clientId: string): Promise<void>;
}

/**
 * oidc-provider only introspects and revokes tokens it stores, and refuses JWTs with
 * `unsupported_token_type`. Gatehouse's access tokens are JWTs (RFC 9068) that are never
 * stored, so after oidc-provider has authenticated the client and refused the JWT, this
 * post-middleware answers instead: RFC 7662 from the verified claims (revocation list
 * included), RFC 7009 by adding the token's jti to the revocation list.
 */
export function jwtTokenEndpoints(deps: JwtEndpointDeps) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    await next();
    const route = ctx.oidc?.route;
    if (route !== 'introspection' && route !== 'revocation') return;
    if (ctx.status !== 400 || (ctx.body as { error?: string } | undefined)?.error !== 'unsupported_token_type') return;
    const client = ctx.oidc.client;
    const token = (ctx.oidc.params as Record<string, unknown> | undefined)?.token;
    if (!client || typeof token !== 'string') return;
    ctx.set('cache-control', 'no-store');

    if (route === 'introspection') {
      let principal: Principal | undefined;
      try {
        principal = await deps.verifier.verify(token);
      } catch (error) {
        // Unknown is not inactive: a resource server told `active: false` drops a good token.
        if (storeUnavailableFrom(error)) throw error;
        principal = undefined;
      }
      // Same rule as for stored tokens: public clients see only their own tokens.
      const allowed = principal && (client.clientAuthMethod !== 'none' || principal.clientId === client.clientId);
      ctx.status = 200;
      ctx.type = 'application/json';
      ctx.body = allowed && principal ? introspection(principal) : { active: false };
      return;
    }

    // RFC 7009 §2.2: the answer is 200 whether or not the token was valid.
    // Only a token that still verifies needs revoking (expired or revoked ones are dead already),
    // and only its own client may revoke it.
    const principal = await deps.verifier.verify(token).catch(() => undefined);
    if (principal && principal.clientId === client.clientId) await deps.revokeToken(principal.jti, principal.expiresAt, client.clientId);
    ctx.status = 200;
    ctx.body = '';
  };
}

function introspection(p: Principal): Record<string, unknown> {
  const c = p.claims;
  return {
    active: true,
    sub: p.sub,
    client_id: p.clientId,
    scope: p.scopes.join(' ') || undefined,
    iss: c.iss,
    aud: c.aud,
    exp: c.exp,
    iat: c.iat,
    jti: p.jti,
    token_type: p.dpopJkt ? 'DPoP' : 'Bearer',
    groups: p.groups,
    ...(p.dpopJkt ? { cnf: { jkt: p.dpopJkt } } : {}),
    ...(c.act ? { act: c.act } : {}),
    ...(p.authorizationDetails ? { authorization_details: p.authorizationDetails } : {}),
  };
}
