import * as oauth from 'oauth4webapi';
import type { UpstreamIdpConfig } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { federatedIdentityProblem, issuerKey } from './federated-identity.js';
import { GROUP_NAME, USER_NAME } from './users.js';

export interface FederatedIdentity {
  /** Who the person is: the ID token's verified issuer and subject. */
  issuer: string;
  subject: string;
  /** What the IdP calls them (`usernameClaim`): the name of a new account, never a key. */
  username: string;
  groups: string[];
  /** RFC 8176 values reported by the IdP (`amr`), as given. */
  amr: string[];
  attributes: Record<string, string>;
}

export interface PendingUpstreamLogin {
  state: string;
  nonce: string;
  verifier: string;
}

export class FederationError extends Error {
  constructor(
    readonly code: 'identity.sso_unavailable' | 'identity.sso_failed' | 'identity.sso_no_username' | 'identity.sso_unverified_email',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Sign-in through the enterprise IdP (OpenID Connect, authorization code + PKCE + nonce, with
 * oauth4webapi as the strict client). The IdP's tokens are used once, to read verified
 * claims, and dropped: they are never stored, logged, or given to anyone.
 */
export class UpstreamIdp {
  #as: oauth.AuthorizationServer | undefined;
  readonly #client: oauth.Client;
  readonly #auth: oauth.ClientAuth;
  readonly #http: { [oauth.allowInsecureRequests]?: boolean; [oauth.customFetch]?: typeof globalThis.fetch };

  /**
   * `fetch` carries every request to the IdP (discovery, token, userinfo): the gateway passes
   * the egress guard's, so endpoints named by the IdP's discovery document cannot point the
   * gateway at internal or metadata addresses.
   */
  constructor(
    readonly config: UpstreamIdpConfig,
    private readonly redirectUri: string,
    clientSecret: string | undefined,
    private readonly log: Logger,
    fetch?: typeof globalThis.fetch,
  ) {
    this.#client = { client_id: config.clientId };
    this.#auth = clientSecret ? oauth.ClientSecretPost(clientSecret) : oauth.None();
    this.#http = {
      ...(config.dangerouslyAllowHttpIssuer ? { [oauth.allowInsecureRequests]: true } : {}),
      ...(fetch ? { [oauth.customFetch]: fetch } : {}),
    };
  }

  async #metadata(): Promise<oauth.AuthorizationServer> {
    if (this.#as) return this.#as;
    const issuer = new URL(this.config.issuer);
    try {
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...this.#http, signal: AbortSignal.timeout(5000) });
      this.#as = await oauth.processDiscoveryResponse(issuer, response);
      return this.#as;
    } catch (error) {
      this.log.error({ issuer: this.config.issuer, err: (error as Error).message }, 'upstream IdP discovery failed');
      throw new FederationError('identity.sso_unavailable', 'The single sign-on provider cannot be reached right now.');
    }
  }

  /**
   * The URL to send the browser to, and what must be remembered (server-side) until it
   * returns. `forceLogin` (a step-up) asks the IdP to authenticate again (`prompt=login`).
   */
  async start(options: { forceLogin?: boolean } = {}): Promise<{ url: string; pending: PendingUpstreamLogin }> {
    const as = await this.#metadata();
    const verifier = oauth.generateRandomCodeVerifier();
    const pending = { state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), verifier };
    const url = new URL(as.authorization_endpoint as string);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', [...new Set(['openid', ...this.config.scopes])].join(' '));
    url.searchParams.set('state', pending.state);
    url.searchParams.set('nonce', pending.nonce);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    if (options.forceLogin) url.searchParams.set('prompt', 'login');
    return { url: url.href, pending };
  }

  /** Completes the code flow from the callback URL and maps the verified claims. */
  async finish(callbackUrl: URL, pending: PendingUpstreamLogin): Promise<FederatedIdentity> {
    const as = await this.#metadata();
    let claims: Record<string, unknown>;
    try {
      const params = oauth.validateAuthResponse(as, this.#client, callbackUrl, pending.state);
      const response = await oauth.authorizationCodeGrantRequest(as, this.#client, this.#auth, params, this.redirectUri, pending.verifier, {
        ...this.#http,
        signal: AbortSignal.timeout(10_000),
      });
      const result = await oauth.processAuthorizationCodeResponse(as, this.#client, response, { expectedNonce: pending.nonce, requireIdToken: true });
      claims = { ...(oauth.getValidatedIdTokenClaims(result) as Record<string, unknown>) };
      if (claims[this.config.groupClaim] === undefined && as.userinfo_endpoint) {
        const info = await oauth.userInfoRequest(as, this.#client, result.access_token, { ...this.#http, signal: AbortSignal.timeout(10_000) });
        const userinfo = await oauth.processUserInfoResponse(as, this.#client, claims.sub as string, info);
        claims = { ...userinfo, ...claims };
      }
    } catch (error) {
      // The error can quote IdP responses; log the code, never tokens.
      this.log.warn({ issuer: this.config.issuer, code: (error as { code?: string }).code, err: (error as Error).message }, 'upstream sign-in failed');
      throw new FederationError('identity.sso_failed', 'Single sign-on did not complete. Try again, or ask your administrator.');
    }
    return this.mapClaims(claims);
  }

  mapClaims(claims: Record<string, unknown>): FederatedIdentity {
    // The ID token's iss and sub were checked by oauth4webapi (issuer match, signature, nonce).
    const issuer = typeof claims.iss === 'string' ? claims.iss : this.config.issuer;
    const subject = claims.sub;
    if (typeof subject !== 'string' || federatedIdentityProblem(issuerKey(issuer), subject) !== undefined) {
      throw new FederationError('identity.sso_failed', 'The sign-on provider did not identify the person (a usable "sub").');
    }
    const username = claims[this.config.usernameClaim];
    if (typeof username !== 'string' || !USER_NAME.test(username)) {
      throw new FederationError('identity.sso_no_username', `The sign-on provider did not supply a usable "${this.config.usernameClaim}".`);
    }
    // An address the IdP has not verified is whatever the person typed: it may not name an account.
    if (this.config.usernameClaim === 'email' && claims.email_verified !== true) {
      throw new FederationError(
        'identity.sso_unverified_email',
        'The sign-on provider has not verified this email address, so it cannot name an account here.',
      );
    }
    const raw = claims[this.config.groupClaim];
    const upstreamGroups = Array.isArray(raw)
      ? raw.filter((g): g is string => typeof g === 'string')
      : typeof raw === 'string'
        ? raw.split(/[\s,]+/).filter(Boolean)
        : [];
    const groups = new Set<string>();
    for (const group of upstreamGroups) {
      const mapped = this.config.groupMap[group];
      if (mapped !== undefined) for (const g of Array.isArray(mapped) ? mapped : [mapped]) groups.add(g);
      else if (this.config.keepUnmappedGroups && GROUP_NAME.test(group)) groups.add(group);
    }
    const amr = Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : [];
    const attributes: Record<string, string> = {};
    for (const key of ['email', 'name', 'sub']) if (typeof claims[key] === 'string') attributes[key === 'sub' ? 'idp_sub' : key] = claims[key] as string;
    attributes.idp = this.config.issuer;
    return { issuer, subject, username, groups: [...groups].sort(), amr, attributes };
  }
}
