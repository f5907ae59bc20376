import { errors as joseErrors, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { TokenError } from './errors.js';
import type { KeyRing } from './key-ring.js';
import type { Principal } from './principal.js';

export interface VerifierSettings {
  issuer: string;
  audience: string;
  /** Tokens whose `exp - iat` exceeds this are refused even if validly signed. */
  maxTtlMs: number;
  /** Accepted clock skew in seconds. */
  clockToleranceSec?: number;
  /** Upper bound on cached verified tokens. */
  cacheSize?: number;
}

/**
 * Extra checks run on every call, cached or not (revocation, which must act immediately).
 * A check returns nothing on its fast path; it may return a promise when it must first catch
 * up with changes another process made (e.g. reload the revocation list).
 */
export type PrincipalCheck = (principal: Principal) => void | Promise<void>;

function toPrincipal(payload: JWTPayload): Principal {
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
  const groups = Array.isArray(payload.groups) ? payload.groups.filter((g): g is string => typeof g === 'string') : [];
  const act: string[] = [];
  let actor = payload.act as { sub?: unknown; act?: unknown } | undefined;
  while (actor && typeof actor === 'object') {
    if (typeof actor.sub === 'string') act.push(actor.sub);
    actor = actor.act as typeof actor;
  }
  return {
    sub: payload.sub as string,
    groups,
    clientId: typeof payload.client_id === 'string' ? payload.client_id : undefined,
    scopes,
    jti: payload.jti as string,
    issuedAt: (payload.iat as number) * 1000,
    expiresAt: (payload.exp as number) * 1000,
    act,
    authorizationDetails: Array.isArray(payload.authorization_details) ? (payload.authorization_details as Record<string, unknown>[]) : undefined,
    authTime: typeof payload.auth_time === 'number' ? payload.auth_time * 1000 : undefined,
    amr: Array.isArray(payload.amr) ? payload.amr.filter((v): v is string => typeof v === 'string') : [],
    grantId: typeof payload.grant_id === 'string' ? payload.grant_id : undefined,
    dpopJkt: typeof (payload.cnf as { jkt?: unknown } | undefined)?.jkt === 'string' ? (payload.cnf as { jkt: string }).jkt : undefined,
    claims: payload,
  };
}

/**
 * Verifies Gatehouse access tokens. A verified token is cached (keyed by its exact text)
 * until it expires, so the hot path costs one map lookup plus the per-call checks.
 */
export class AccessTokenVerifier {
  #cache = new Map<string, Principal>();
  readonly #cacheSize: number;
  readonly #tolerance: number;

  constructor(
    private readonly keys: KeyRing,
    private readonly settings: VerifierSettings,
    private readonly checks: PrincipalCheck[] = [],
  ) {
    this.#cacheSize = settings.cacheSize ?? 10_000;
    this.#tolerance = settings.clockToleranceSec ?? 5;
  }

  addCheck(check: PrincipalCheck): void {
    this.checks.push(check);
  }

  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw new TokenError('auth.missing_token');
    const cached = this.#cache.get(token);
    if (cached) {
      if (cached.expiresAt + this.#tolerance * 1000 <= Date.now()) {
        this.#cache.delete(token);
        throw new TokenError('auth.token_expired');
      }
      for (const check of this.checks) {
        const pending = check(cached);
        if (pending) await pending;
      }
      return cached;
    }
    const principal = await this.#verifyFully(token);
    for (const check of this.checks) await check(principal);
    if (this.#cache.size >= this.#cacheSize) this.#evict();
    this.#cache.set(token, principal);
    return principal;
  }

  /** Drops cached entries (e.g. after a key is revoked). */
  clearCache(): void {
    this.#cache.clear();
  }

  #evict(): void {
    const now = Date.now();
    for (const [token, principal] of this.#cache) if (principal.expiresAt <= now) this.#cache.delete(token);
    // Still full: drop the oldest insertions (Map iterates in insertion order).
    let excess = this.#cache.size - Math.floor(this.#cacheSize * 0.9);
    for (const token of this.#cache.keys()) {
      if (excess-- <= 0) break;
      this.#cache.delete(token);
    }
  }

  async #verifyFully(token: string): Promise<Principal> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenError('auth.malformed_token');
    }
    // Only EdDSA: this refuses `alg: none` and HS256-with-the-public-key confusion outright.
    if (header.alg !== 'EdDSA') throw new TokenError('auth.unsupported_alg', { alg: header.alg });
    // RFC 9068 §4: resource servers MUST verify the `typ` header is `at+jwt`.
    if (header.typ !== 'at+jwt' && header.typ !== 'application/at+jwt') throw new TokenError('auth.wrong_type', { typ: header.typ });
    if (typeof header.kid !== 'string') throw new TokenError('auth.malformed_token', { reason: 'no kid' });
    const key = await this.keys.verificationKey(header.kid);
    if (!key) throw new TokenError('auth.unknown_key', { kid: header.kid });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['EdDSA'],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        clockTolerance: this.#tolerance,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      }));
    } catch (error) {
      throw this.#mapJoseError(error);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenError('auth.missing_claim', { claim: 'sub' });
    if (typeof payload.jti !== 'string') throw new TokenError('auth.missing_claim', { claim: 'jti' });
    const lifetimeMs = ((payload.exp as number) - (payload.iat as number)) * 1000;
    if (lifetimeMs > this.settings.maxTtlMs) throw new TokenError('auth.lifetime_too_long', { lifetimeMs });
    return toPrincipal(payload);
  }

  #mapJoseError(error: unknown): TokenError {
    if (error instanceof joseErrors.JWTExpired) return new TokenError('auth.token_expired');
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      switch (error.claim) {
        case 'aud':
          return new TokenError('auth.wrong_audience');
        case 'iss':
          return new TokenError('auth.wrong_issuer');
        case 'nbf':
          return new TokenError('auth.token_not_yet_valid');
        case 'iat':
          return new TokenError(error.reason === 'check_failed' ? 'auth.token_not_yet_valid' : 'auth.missing_claim', { claim: 'iat' });
        default:
          return new TokenError('auth.missing_claim', { claim: error.claim, reason: error.reason });
      }
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenError('auth.invalid_signature');
    if (error instanceof joseErrors.JOSEAlgNotAllowed) return new TokenError('auth.unsupported_alg');
    return new TokenError('auth.malformed_token', { error: (error as Error).message });
  }
}
