import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, type JWK } from 'jose';
import { AuthenticationError } from '../errors/index.js';
import type { Principal } from './principal.js';
import { dpopReplayKey, MemoryReplayCache, type ReplayCache } from './replay-cache.js';

/** Algorithms accepted for DPoP proofs (asymmetric only: RFC 9449 §4.2 forbids MAC algorithms). */
export const DPOP_ALGS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'PS256', 'RS256'] as const;

export type DpopErrorCode = 'auth.dpop_proof_missing' | 'auth.dpop_proof_invalid' | 'auth.dpop_key_mismatch' | 'auth.dpop_replay' | 'auth.dpop_required';

const MESSAGES: Record<DpopErrorCode, string> = {
  'auth.dpop_proof_missing': 'A DPoP-bound access token needs a DPoP proof.',
  'auth.dpop_proof_invalid': 'The DPoP proof is invalid.',
  'auth.dpop_key_mismatch': 'The DPoP proof was not made with the key the access token is bound to.',
  'auth.dpop_replay': 'The DPoP proof was already used.',
  'auth.dpop_required': 'This access token is DPoP-bound and must be presented with the DPoP scheme.',
};

/** RFC 9449 §7.1: proof problems are `invalid_dpop_proof`; scheme problems are `invalid_token`. */
export class DpopError extends AuthenticationError {
  readonly dpopError: 'invalid_dpop_proof' | 'invalid_token';
  constructor(code: DpopErrorCode, detail?: Record<string, unknown>) {
    super(code, MESSAGES[code], 'invalid_token', detail ? { detail } : {});
    this.dpopError = code === 'auth.dpop_required' ? 'invalid_token' : 'invalid_dpop_proof';
  }
}

export interface DpopRequest {
  /** The DPoP header values (exactly one is allowed). */
  proofs: readonly string[];
  method: string;
  /** The target URI as the client addressed it (origin from publicUrl, no query or fragment). */
  url: string;
  accessToken: string;
}

/**
 * Verifies DPoP proofs presented with access tokens at a resource server (RFC 9449 §4.3 and
 * §7.1): one proof, `typ` dpop+jwt, an asymmetric algorithm, a public JWK whose thumbprint is
 * the token's `cnf.jkt`, matching `htm`/`htu`, a fresh `iat`, `ath` = hash of the token, and
 * a `jti` not seen before within the acceptance window. Where `jti`s are remembered is the
 * replay cache's business: this process's memory on one node, the shared store in a cluster
 * (a proof replayed to another node must be refused too).
 */
export class DpopVerifier {
  constructor(
    private readonly windowSec = 60,
    private readonly replays: ReplayCache = new MemoryReplayCache(windowSec * 1000),
  ) {}

  async verify(principal: Principal, request: DpopRequest): Promise<void> {
    if (!principal.dpopJkt) throw new DpopError('auth.dpop_proof_invalid', { reason: 'token is not DPoP-bound' });
    if (request.proofs.length === 0) throw new DpopError('auth.dpop_proof_missing');
    if (request.proofs.length > 1) throw new DpopError('auth.dpop_proof_invalid', { reason: 'more than one DPoP header' });
    const proof = request.proofs[0] as string;
    let header;
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      throw new DpopError('auth.dpop_proof_invalid', { reason: 'not a JWS' });
    }
    if (header.typ !== 'dpop+jwt') throw new DpopError('auth.dpop_proof_invalid', { reason: 'typ' });
    if (!(DPOP_ALGS as readonly string[]).includes(header.alg as string)) throw new DpopError('auth.dpop_proof_invalid', { reason: 'alg', alg: header.alg });
    const jwk = header.jwk as JWK | undefined;
    if (!jwk || typeof jwk !== 'object' || 'd' in jwk || jwk.kty === 'oct') throw new DpopError('auth.dpop_proof_invalid', { reason: 'jwk' });
    let payload;
    try {
      const key = await importJWK(jwk, header.alg as string);
      ({ payload } = await jwtVerify(proof, key, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGS], requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'] }));
    } catch (error) {
      throw new DpopError('auth.dpop_proof_invalid', { reason: error instanceof joseErrors.JOSEError ? error.code : (error as Error).message });
    }
    const now = Math.floor(Date.now() / 1000);
    const iat = payload.iat as number;
    if (Math.abs(now - iat) > this.windowSec) throw new DpopError('auth.dpop_proof_invalid', { reason: 'iat outside window' });
    if (payload.htm !== request.method) throw new DpopError('auth.dpop_proof_invalid', { reason: 'htm' });
    if (typeof payload.htu !== 'string' || stripUri(payload.htu) !== stripUri(request.url)) throw new DpopError('auth.dpop_proof_invalid', { reason: 'htu' });
    const ath = createHash('sha256').update(request.accessToken).digest('base64url');
    if (payload.ath !== ath) throw new DpopError('auth.dpop_proof_invalid', { reason: 'ath' });
    if ((await calculateJwkThumbprint(jwk, 'sha256')) !== principal.dpopJkt) throw new DpopError('auth.dpop_key_mismatch');
    // Remembered until the proof could no longer pass the iat check anyway (plus a second for rounding).
    const until = (iat + this.windowSec + 1) * 1000;
    if (!(await this.replays.firstUse(dpopReplayKey(principal.dpopJkt, payload.jti as string), until))) throw new DpopError('auth.dpop_replay');
  }
}

/** RFC 9449 §4.3: htu is compared without query and fragment. */
function stripUri(uri: string): string {
  const url = URL.parse(uri);
  if (!url) return uri;
  return `${url.protocol}//${url.host.toLowerCase()}${url.pathname}`;
}
