import * as oauth from 'oauth4webapi';
import type { Vault } from '../../../vault/index.js';
import { CredentialUnavailableError } from './errors.js';
import { resolveSecret } from './resolve-secret.js';

export interface EndpointConfig {
  issuer?: string | undefined;
  tokenUrl?: string | undefined;
  authorizationUrl?: string | undefined;
  revocationUrl?: string | undefined;
  dangerouslyAllowHttp: boolean;
  clientId: string;
  clientSecret?: string | undefined;
  authMethod?: 'client_secret_basic' | 'client_secret_post' | 'none' | undefined;
}

export type HttpOptions = { [oauth.customFetch]: typeof globalThis.fetch; [oauth.allowInsecureRequests]?: boolean; signal?: AbortSignal };

/**
 * One downstream OAuth authorization server as oauth4webapi sees it: metadata (discovered once
 * from `issuer`, or built from the configured endpoints), the client, and its authentication.
 * Every request goes through the given (egress-guarded) fetch.
 */
export class OAuthEndpoints {
  #metadata: Promise<oauth.AuthorizationServer> | undefined;
  readonly client: oauth.Client;

  constructor(
    readonly server: string,
    readonly config: EndpointConfig,
    private readonly deps: { fetch: typeof globalThis.fetch; vault: Vault },
  ) {
    this.client = { client_id: config.clientId };
  }

  http(signal?: AbortSignal): HttpOptions {
    return {
      [oauth.customFetch]: this.deps.fetch,
      ...(this.config.dangerouslyAllowHttp ? { [oauth.allowInsecureRequests]: true } : {}),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(15_000)]) : AbortSignal.timeout(15_000),
    };
  }

  metadata(): Promise<oauth.AuthorizationServer> {
    this.#metadata ??= this.#load().catch((error: unknown) => {
      // Not cached: the next call tries discovery again.
      this.#metadata = undefined;
      throw error;
    });
    return this.#metadata;
  }

  async #load(): Promise<oauth.AuthorizationServer> {
    const { config } = this;
    let discovered: oauth.AuthorizationServer | undefined;
    if (config.issuer) {
      const issuer = new URL(config.issuer);
      try {
        const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...this.http() });
        discovered = await oauth.processDiscoveryResponse(issuer, response);
      } catch (error) {
        throw new CredentialUnavailableError('credentials.token_endpoint', `The authorization server for ${this.server} could not be reached.`, {
          detail: { server: this.server, issuer: config.issuer, error: (error as Error).message },
          cause: error,
        });
      }
    }
    const metadata: oauth.AuthorizationServer = {
      ...(discovered ?? { issuer: new URL(config.tokenUrl as string).origin }),
      ...(config.tokenUrl ? { token_endpoint: config.tokenUrl } : {}),
      ...(config.authorizationUrl ? { authorization_endpoint: config.authorizationUrl } : {}),
      ...(config.revocationUrl ? { revocation_endpoint: config.revocationUrl } : {}),
    };
    if (!metadata.token_endpoint) {
      throw new CredentialUnavailableError('credentials.token_endpoint', `The authorization server for ${this.server} names no token endpoint.`);
    }
    return metadata;
  }

  /** The client authentication, with the secret resolved from the vault at the moment of use. */
  async clientAuth(): Promise<oauth.ClientAuth> {
    const method = this.config.authMethod ?? (this.config.clientSecret ? 'client_secret_basic' : 'none');
    if (method === 'none' || !this.config.clientSecret) return oauth.None();
    const secret = await resolveSecret(this.deps.vault, this.config.clientSecret, `servers.${this.server}.http.auth.clientSecret`);
    return method === 'client_secret_post' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
  }
}

/** The OAuth error code of a failed token response (`invalid_grant`, …), if it was one. */
export function oauthErrorCode(error: unknown): string | undefined {
  if (error instanceof oauth.ResponseBodyError) return error.error;
  // A 401 with WWW-Authenticate (RFC 6749 §5.2 invalid_client): the code is a challenge parameter.
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const code = error.cause.map((challenge) => challenge.parameters.error).find((value) => typeof value === 'string');
    return code ?? 'invalid_client';
  }
  return undefined;
}

/** Seconds → absolute expiry (ms); a token without `expires_in` is treated as valid for 5 minutes. */
export function expiryOf(expiresIn: number | undefined, now: number): number {
  return now + (typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 300) * 1000;
}

/**
 * The typed refusal for a token-endpoint call that failed; a credential error raised inside it, such as a client secret the vault cannot
 * give, stands as it is.
 */
export function tokenEndpointError(server: string, message: string, error: unknown): CredentialUnavailableError {
  if (error instanceof CredentialUnavailableError) return error;
  return new CredentialUnavailableError('credentials.token_endpoint', message, {
    detail: { server, oauthError: oauthErrorCode(error), error: (error as Error).message },
    cause: error,
  });
}
