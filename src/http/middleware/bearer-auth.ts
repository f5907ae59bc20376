import type { MiddlewareHandler } from 'hono';
import { AuthenticationError, RpcCode, storeUnavailableFrom } from '../../errors/index.js';
import { jsonRpcErrorResponse } from '../json-rpc-error.js';
import type { Principal } from '../../tokens/index.js';
import { DPOP_ALGS, DpopError, TokenError, type DpopVerifier } from '../../tokens/index.js';

export type AuthVariables = { principal: Principal };

export interface BearerAuthOptions {
  verify(token: string | undefined): Promise<Principal>;
  /** RFC 9728 metadata URL named in every challenge. */
  resourceMetadataUrl: string;
  /** Scope hint for the challenge (MCP Authorization: clients use it to ask for the right scope). */
  scope?: string;
  onFailure?(error: AuthenticationError, c: Parameters<MiddlewareHandler>[0]): void;
  /** A token that could not be checked for a server-side reason (logged; the client gets 503 or 500). */
  onServerError?(error: unknown, c: Parameters<MiddlewareHandler>[0]): void;
  /** RFC 9449: accept `Authorization: DPoP` with proofs checked against `url` (the public URL of this endpoint). */
  dpop?: { verifier: DpopVerifier; url: string };
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** RFC 6750 §3 challenge. Without credentials there is no error code, only where to look. */
export function bearerChallenge(options: Pick<BearerAuthOptions, 'resourceMetadataUrl' | 'scope'>, error?: AuthenticationError): string {
  const params = [`resource_metadata=${quote(options.resourceMetadataUrl)}`];
  if (options.scope) params.push(`scope=${quote(options.scope)}`);
  if (error?.oauthError) {
    params.push(`error=${quote(error.oauthError)}`);
    params.push(`error_description=${quote(error.message)}`);
  }
  return `Bearer ${params.join(', ')}`;
}

/** RFC 9449 §7.1 challenge for DPoP problems. */
export function dpopChallenge(options: Pick<BearerAuthOptions, 'resourceMetadataUrl'>, error: DpopError): string {
  return `DPoP algs="${DPOP_ALGS.join(' ')}", resource_metadata=${quote(options.resourceMetadataUrl)}, error=${quote(error.dpopError)}, error_description=${quote(error.message)}`;
}

/**
 * The token could not be checked because of the server, not the client (the store holding
 * revocations and keys is unreachable, or a bug): never a 401, which tells a client to discard
 * a good token and sign in again. An unreachable store is a 503 with `Retry-After`; anything
 * else a 500. Both are JSON-RPC errors (no request id yet: the body is read after this).
 */
function serverFailure(error: unknown, options: BearerAuthOptions, c: Parameters<MiddlewareHandler>[0]): Response {
  options.onServerError?.(error, c);
  const unavailable = storeUnavailableFrom(error);
  if (unavailable)
    return jsonRpcErrorResponse(
      unavailable.status,
      unavailable.rpcCode,
      unavailable.message,
      { 'retry-after': String(unavailable.retryAfterSeconds) },
      {
        code: unavailable.code,
        ...unavailable.data,
      },
    );
  return jsonRpcErrorResponse(500, RpcCode.InternalError, 'Internal error', {}, { code: 'internal' });
}

/**
 * Authenticates with a bearer token from the Authorization header — never from the query
 * string (MCP Authorization: tokens MUST NOT be in the URI).
 */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    let principal: Principal;
    try {
      let token: string | undefined;
      let scheme: 'bearer' | 'dpop' = 'bearer';
      if (header !== undefined) {
        const match = /^(Bearer|DPoP)[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
        if (!match || (match[1]?.toLowerCase() === 'dpop' && !options.dpop)) throw new TokenError('auth.malformed_token');
        scheme = match[1]?.toLowerCase() === 'dpop' ? 'dpop' : 'bearer';
        token = match[2];
      }
      principal = await options.verify(token);
      if (scheme === 'dpop' && options.dpop) {
        const proofs = (c.req.header('dpop') ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
        await options.dpop.verifier.verify(principal, { proofs, method: c.req.method, url: options.dpop.url, accessToken: token as string });
      } else if (principal.dpopJkt !== undefined) {
        // RFC 9449 §7.2: a DPoP-bound token sent as a bearer token is refused.
        throw new DpopError('auth.dpop_required');
      }
    } catch (error) {
      if (!(error instanceof AuthenticationError)) return serverFailure(error, options, c as never);
      const authError = error;
      options.onFailure?.(authError, c as never);
      return new Response(
        JSON.stringify({
          ...(authError.oauthError ? { error: authError instanceof DpopError ? authError.dpopError : authError.oauthError } : {}),
          error_description: authError.message,
          code: authError.code,
        }),
        {
          status: authError.oauthError === 'invalid_request' ? 400 : 401,
          headers: {
            'content-type': 'application/json',
            'www-authenticate': authError instanceof DpopError ? dpopChallenge(options, authError) : bearerChallenge(options, authError),
          },
        },
      );
    }
    c.set('principal', principal);
    await next();
  };
}
