import type { MiddlewareHandler } from 'hono';
import { AuthenticationError } from '../../errors/index.js';
import type { Principal } from '../../tokens/index.js';
import { TokenError } from '../../tokens/index.js';

export type AuthVariables = { principal: Principal };

export interface BearerAuthOptions {
  verify(token: string | undefined): Promise<Principal>;
  /** RFC 9728 metadata URL named in every challenge. */
  resourceMetadataUrl: string;
  /** Scope hint for the challenge (MCP Authorization: clients use it to ask for the right scope). */
  scope?: string;
  onFailure?(error: AuthenticationError, c: Parameters<MiddlewareHandler>[0]): void;
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
      if (header !== undefined) {
        const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
        if (!match) throw new TokenError('auth.malformed_token');
        token = match[1];
      }
      principal = await options.verify(token);
    } catch (error) {
      const authError = error instanceof AuthenticationError ? error : new TokenError('auth.malformed_token');
      options.onFailure?.(authError, c as never);
      return new Response(
        JSON.stringify({ ...(authError.oauthError ? { error: authError.oauthError } : {}), error_description: authError.message, code: authError.code }),
        {
          status: authError.oauthError === 'invalid_request' ? 400 : 401,
          headers: { 'content-type': 'application/json', 'www-authenticate': bearerChallenge(options, authError) },
        },
      );
    }
    c.set('principal', principal);
    await next();
  };
}
