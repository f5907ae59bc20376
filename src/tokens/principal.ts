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
  /** Raw claims for stages that need more (e.g. IdP attributes for policy). */
  claims: Readonly<Record<string, unknown>>;
}
