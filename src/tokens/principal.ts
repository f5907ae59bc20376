/** Who is behind a request, as established by a verified access token. Never from tool arguments. */
export interface Principal {
  sub: string;
  groups: readonly string[];
  /** OAuth client the token was issued to (`client_id`), when there is one. */
  clientId: string | undefined;
  /** Space-separated `scope` claim, split. */
  scopes: readonly string[];
  /** Token id (`jti`), the handle for revocation. */
  jti: string;
  issuedAt: number;
  expiresAt: number;
  /** RFC 8693 actor chain, outermost first (user → agent → sub-agent). */
  act: readonly string[];
  /** RFC 9396 authorization details carried in the token. */
  authorizationDetails: readonly Record<string, unknown>[] | undefined;
  /** When the user signed in (epoch ms, from `auth_time`), if the token says. */
  authTime: number | undefined;
  /** How the user signed in: RFC 8176 `amr` values such as `pwd`, `otp`, `mfa`. */
  amr: readonly string[];
  /** The authorization (grant) the token was issued under, for tokens from the built-in AS. */
  grantId: string | undefined;
  /** RFC 9449: thumbprint of the key the token is bound to (`cnf.jkt`); the caller must prove it. */
  dpopJkt: string | undefined;
  /** Raw claims for stages that need more (e.g. IdP attributes for policy). */
  claims: Readonly<Record<string, unknown>>;
}

/**
 * A principal that no token carried: for evaluating policy offline (`gatehouse policy explain`),
 * benchmarks and fixtures. Only who it is, its client and its lifetime vary; it holds no actor
 * chain, authorization details, grant or DPoP binding, and says nothing about how the user
 * signed in beyond what `claims` states.
 */
export function localPrincipal(p: {
  sub: string;
  groups: readonly string[];
  clientId: string;
  jti: string;
  issuedAt: number;
  expiresAt: number;
  claims: Record<string, unknown>;
}): Principal {
  return {
    sub: p.sub,
    groups: p.groups,
    clientId: p.clientId,
    scopes: ['mcp'],
    jti: p.jti,
    issuedAt: p.issuedAt,
    expiresAt: p.expiresAt,
    act: [],
    authorizationDetails: undefined,
    authTime: undefined,
    amr: [],
    grantId: undefined,
    dpopJkt: undefined,
    claims: p.claims,
  };
}
