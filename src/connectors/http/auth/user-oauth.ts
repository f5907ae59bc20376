import { randomBytes, randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { AuditKind, type AuditLog } from '../../../audit/index.js';
import { registerCredential, unregisterCredential, type Logger } from '../../../log/index.js';
import type { ConnectionRecord, ConnectionStore, SealedSecret } from '../../../storage/index.js';
import type { Vault } from '../../../vault/index.js';
import type { HttpAuth, HttpAuthCallContext, HttpCredentials } from '../auth-port.js';
import { EXPIRY_MARGIN_MS } from './client-credentials.js';
import type { UserOAuthAuth } from '../../../config/http/auth-schemas.js';
import { ConnectionRequiredError, CredentialUnavailableError } from './errors.js';
import { expiryOf, OAuthEndpoints, oauthErrorCode, tokenEndpointError } from './oauth-endpoints.js';
import { SingleFlight } from './single-flight.js';

/** How long a process may hold the refresh lock before others may take it over. */
const LOCK_TTL_MS = 30_000;
/** An authorization request (state, PKCE verifier) is good for this long. */
const REQUEST_TTL_MS = 10 * 60_000;
/** How long a call waits, after the client opened the connections page, for the user to connect. */
const CONNECT_WAIT_MS = 120_000;

export interface UserOAuthDeps {
  fetch: typeof globalThis.fetch;
  vault: Vault;
  store: ConnectionStore;
  audit: AuditLog;
  log: Logger;
  /** The gateway's public URL: the page is `<publicUrl>/connections`, the callback `<publicUrl>/connections/callback`. */
  publicUrl: string;
  /** Identifies this process as a lock holder. */
  instanceId?: string;
  now?: () => number;
  /** Poll interval while another process refreshes (default 25 ms). */
  lockPollMs?: number;
  /** Wait for the user to connect after a URL elicitation (default 2 minutes). */
  connectWaitMs?: number;
}

/** Unambiguous sealing contexts: JSON keeps "a:b"+"c" apart from "a"+"b:c". */
const tokenContext = (server: string, user: string, kind: 'refresh' | 'access') => `connection:${JSON.stringify([server, user])}:${kind}`;
const verifierContext = (state: string) => `connection-request:${state}:verifier`;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

interface CachedToken {
  token: string;
  expiresAt: number;
  generation: number;
}

/**
 * The user's own account at a downstream provider (authorization code + PKCE). The refresh
 * token is stored sealed with the vault's envelope encryption; the access token lives in
 * memory, and sealed next to the refresh token so that other processes sharing the data dir
 * use it instead of refreshing again.
 *
 * Refresh is single-flight twice over: callers in this process share one attempt, and
 * processes share one through a lock row in storage. The holder saves the rotated refresh
 * token and the new access token in one transaction (releasing the lock) before anyone uses
 * the new access token; the others wait for the lock and read the result. `invalid_grant`
 * (revoked or reused at the provider) deletes the connection, audits it, and asks the user to
 * reconnect.
 */
export class UserOAuthProvider implements HttpAuth {
  readonly type = 'userOAuth';
  readonly secretQueryParams: readonly string[] = [];
  readonly endpoints: OAuthEndpoints;
  readonly #memory = new Map<string, CachedToken>();
  readonly #flight = new SingleFlight<CachedToken>();
  /** Concurrent calls of one user that all need the connection share one elicitation. */
  readonly #elicitations = new SingleFlight<CachedToken>();
  readonly #instance: string;
  readonly #now: () => number;
  /** Refresh requests this process sent to the provider (for tests and metrics). */
  refreshes = 0;

  constructor(
    readonly server: string,
    readonly config: UserOAuthAuth,
    private readonly deps: UserOAuthDeps,
  ) {
    this.endpoints = new OAuthEndpoints(server, config, deps);
    this.#instance = deps.instanceId ?? `${process.pid}:${randomUUID()}`;
    this.#now = deps.now ?? Date.now;
  }

  /** What the connections page shows as the provider. */
  get providerName(): string {
    return this.config.displayName ?? new URL(this.config.issuer ?? this.config.authorizationUrl ?? (this.config.tokenUrl as string)).host;
  }

  get pageUrl(): string {
    return `${this.deps.publicUrl.replace(/\/$/, '')}/connections?server=${encodeURIComponent(this.server)}`;
  }

  get callbackUrl(): string {
    return `${this.deps.publicUrl.replace(/\/$/, '')}/connections/callback`;
  }

  async authorize(_request: unknown, ctx: HttpAuthCallContext): Promise<HttpCredentials> {
    const token = await this.accessToken(ctx.user.sub, ctx);
    return { headers: { authorization: `Bearer ${token.token}` } };
  }

  async invalidate(used: HttpCredentials, ctx: HttpAuthCallContext): Promise<void> {
    const cached = this.#memory.get(ctx.user.sub);
    if (!cached || used.headers?.authorization !== `Bearer ${cached.token}`) return;
    this.#memory.delete(ctx.user.sub);
    // Other processes would otherwise keep using the rejected token until it expires.
    await this.deps.store.expireAccessToken(ctx.user.sub, this.server, cached.generation);
  }

  /** A usable access token for `user`, refreshing it (once, across processes) when needed. */
  async accessToken(user: string, ctx?: Pick<HttpAuthCallContext, 'client' | 'signal'>): Promise<CachedToken> {
    const cached = this.#memory.get(user);
    if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > this.#now()) return cached;
    try {
      return await this.#flight.run(user, () => this.#obtain(user, ctx?.signal));
    } catch (error) {
      const client = ctx?.client;
      if (error instanceof ConnectionRequiredError && client?.elicitation.url)
        return this.#elicitations.run(user, () => this.#elicit(user, error, { client, signal: (ctx as NonNullable<typeof ctx>).signal }));
      throw error;
    }
  }

  /**
   * URL-mode elicitation: the client shows the user the connections page; the call waits (up
   * to a bound) for the connection to appear, then goes on. The agent only ever sees the URL.
   */
  async #elicit(user: string, required: ConnectionRequiredError, ctx: Pick<HttpAuthCallContext, 'client' | 'signal'>): Promise<CachedToken> {
    const client = ctx.client as NonNullable<HttpAuthCallContext['client']>;
    const { elicitation } = required;
    const waitMs = this.deps.connectWaitMs ?? CONNECT_WAIT_MS;
    const stop = new AbortController();
    const signal = AbortSignal.any([ctx.signal, stop.signal, AbortSignal.timeout(waitMs)]);
    const before = (await this.deps.store.get(user, this.server))?.generation ?? 0;
    try {
      const answer = await client.elicit(
        { mode: 'url', elicitationId: elicitation.elicitationId, url: required.url, message: elicitation.message },
        { signal, timeoutMs: waitMs },
      );
      if (answer.action !== 'accept') throw required;
      for (;;) {
        const row = await this.deps.store.get(user, this.server);
        if (row && row.generation > before) break;
        await sleep(250, signal);
      }
    } catch (error) {
      if (error === required || signal.aborted) throw required;
      this.deps.log.warn({ server: this.server, err: (error as Error).message }, 'URL elicitation for a connection failed');
      throw required;
    } finally {
      stop.abort();
    }
    void client.elicitationComplete(elicitation.elicitationId).catch(() => undefined);
    return this.#flight.run(user, () => this.#obtain(user, ctx.signal));
  }

  #required(reason: 'not_connected' | 'reconnect'): ConnectionRequiredError {
    return new ConnectionRequiredError({ server: this.server, url: this.pageUrl, reason, elicitationId: randomUUID(), provider: this.providerName });
  }

  async #obtain(user: string, signal?: AbortSignal): Promise<CachedToken> {
    const pollMs = this.deps.lockPollMs ?? 25;
    for (;;) {
      const row = await this.deps.store.get(user, this.server);
      if (!row) throw this.#required('not_connected');
      if (row.accessToken && (row.accessExpiresAt ?? 0) - EXPIRY_MARGIN_MS > this.#now()) return this.#useStored(user, row);
      // A provider that issued no refresh token: once its access token expires, connect again.
      if (!row.refreshToken) throw this.#required('reconnect');
      const now = this.#now();
      if (await this.deps.store.tryLock(user, this.server, this.#instance, now + LOCK_TTL_MS, now)) {
        let committed = false;
        try {
          // Someone may have refreshed between our read and the lock: use theirs.
          const current = await this.deps.store.get(user, this.server);
          if (!current) throw this.#required('not_connected');
          if (current.accessToken && (current.accessExpiresAt ?? 0) - EXPIRY_MARGIN_MS > this.#now()) return await this.#useStored(user, current);
          if (!current.refreshToken) throw this.#required('reconnect');
          const result = await this.#refresh(user, current);
          committed = true;
          return result;
        } finally {
          if (!committed) await this.deps.store.unlock(user, this.server, this.#instance).catch(() => undefined);
        }
      }
      // Another process is refreshing: wait for its result instead of refreshing again.
      await sleep(pollMs, signal);
    }
  }

  /**
   * Caches a user's token, and stops scrubbing the one it replaces (expired, or nearly: the
   * redactor's list would otherwise grow with every refresh for as long as the process runs).
   */
  #remember(user: string, cached: CachedToken): void {
    const previous = this.#memory.get(user);
    this.#memory.set(user, cached);
    if (previous && previous.token !== cached.token) unregisterCredential(previous.token);
  }

  async #useStored(user: string, row: ConnectionRecord): Promise<CachedToken> {
    const token = await this.deps.vault.openValue(tokenContext(this.server, user, 'access'), row.accessToken as SealedSecret);
    const cached = { token, expiresAt: row.accessExpiresAt as number, generation: row.generation };
    this.#remember(user, cached);
    return cached;
  }

  async #refresh(user: string, row: ConnectionRecord): Promise<CachedToken> {
    const refreshToken = await this.deps.vault.openValue(tokenContext(this.server, user, 'refresh'), row.refreshToken as SealedSecret);
    const as = await this.endpoints.metadata();
    const params = this.config.resource ? new URLSearchParams({ resource: this.config.resource }) : undefined;
    this.refreshes++;
    let result: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.refreshTokenGrantRequest(as, this.endpoints.client, await this.endpoints.clientAuth(), refreshToken, {
        ...this.endpoints.http(),
        ...(params ? { additionalParameters: params } : {}),
      });
      result = await oauth.processRefreshTokenResponse(as, this.endpoints.client, response);
    } catch (error) {
      if (oauthErrorCode(error) === 'invalid_grant') {
        // Revoked at the provider, expired, or a reused (stolen) refresh token made the provider
        // kill the family: the stored tokens are worthless, the user has to connect again.
        await this.deps.store.delete(user, this.server);
        this.#memory.delete(user);
        await this.deps.audit.append(
          AuditKind.ConnectionInvalidGrant,
          { actor: { sub: user }, target: { server: this.server }, connection: { provider: this.providerName, generation: row.generation } },
          { durable: true },
        );
        this.deps.log.warn({ server: this.server, user }, 'the provider refused the refresh token (invalid_grant); the connection was removed');
        throw this.#required('reconnect');
      }
      throw tokenEndpointError(this.server, `The token endpoint for ${this.server} refused or failed the refresh.`, error);
    }
    registerCredential(result.access_token);
    const rotated = typeof result.refresh_token === 'string' && result.refresh_token !== refreshToken;
    if (rotated) registerCredential(result.refresh_token as string);
    const replacedRefreshToken = rotated ? refreshToken : undefined;
    const expiresAt = expiryOf(result.expires_in, this.#now());
    const tokens = {
      refreshToken: rotated ? await this.deps.vault.sealValue(tokenContext(this.server, user, 'refresh'), result.refresh_token as string) : row.refreshToken,
      accessToken: await this.deps.vault.sealValue(tokenContext(this.server, user, 'access'), result.access_token),
      accessExpiresAt: expiresAt,
      scopes: typeof result.scope === 'string' ? result.scope.split(' ').filter(Boolean) : row.scopes,
    };
    // Durable before anyone uses the new access token: a crash after this line loses nothing.
    const saved = await this.deps.store.commitRefresh(user, this.server, this.#instance, tokens, this.#now());
    if (!saved) {
      throw new CredentialUnavailableError('credentials.token_endpoint', `The connection for ${this.server} changed during the refresh; try again.`, {
        detail: { server: this.server, problem: 'refresh lock lost before commit' },
      });
    }
    void this.deps.audit.append(
      AuditKind.ConnectionRefreshed,
      { actor: { sub: user }, target: { server: this.server }, connection: { provider: this.providerName, generation: saved.generation, rotated } },
      { durable: false },
    );
    // The provider consumed the old refresh token: it can no longer be used by anyone.
    if (replacedRefreshToken) unregisterCredential(replacedRefreshToken);
    const cached = { token: result.access_token, expiresAt, generation: saved.generation };
    this.#remember(user, cached);
    return cached;
  }

  /** Starts a connection: the authorization URL to send the browser to. */
  async startConnect(user: string, sessionId: string): Promise<URL> {
    const as = await this.endpoints.metadata();
    if (!as.authorization_endpoint)
      throw new CredentialUnavailableError('credentials.token_endpoint', `The provider for ${this.server} names no authorization endpoint.`);
    const state = randomBytes(32).toString('base64url');
    const verifier = oauth.generateRandomCodeVerifier();
    const now = this.#now();
    await this.deps.store.putPending({
      state,
      user,
      server: this.server,
      sessionId,
      verifier: await this.deps.vault.sealValue(verifierContext(state), verifier),
      createdAt: now,
      expiresAt: now + REQUEST_TTL_MS,
    });
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', this.callbackUrl);
    if (this.config.scopes.length > 0) url.searchParams.set('scope', this.config.scopes.join(' '));
    if (this.config.resource) url.searchParams.set('resource', this.config.resource);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url;
  }

  /**
   * Completes a connection from the provider's redirect. `pending` is the request `state`
   * named (already taken from storage, checked against the browser session by the caller).
   */
  async finishConnect(callback: URL, pending: { state: string; user: string; verifier: SealedSecret }): Promise<ConnectionRecord> {
    const as = await this.endpoints.metadata();
    const verifier = await this.deps.vault.openValue(verifierContext(pending.state), pending.verifier);
    let result: oauth.TokenEndpointResponse;
    try {
      const params = oauth.validateAuthResponse(as, this.endpoints.client, callback, pending.state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        this.endpoints.client,
        await this.endpoints.clientAuth(),
        params,
        this.callbackUrl,
        verifier,
        {
          ...this.endpoints.http(),
          ...(this.config.resource ? { additionalParameters: new URLSearchParams({ resource: this.config.resource }) } : {}),
        },
      );
      result = await oauth.processAuthorizationCodeResponse(as, this.endpoints.client, response);
    } catch (error) {
      throw new CredentialUnavailableError('credentials.token_endpoint', `${this.providerName} did not complete the connection.`, {
        detail: { server: this.server, oauthError: oauthErrorCode(error), error: (error as Error).message },
        cause: error,
      });
    }
    registerCredential(result.access_token);
    if (result.refresh_token) registerCredential(result.refresh_token);
    const now = this.#now();
    const expiresAt = expiryOf(result.expires_in, now);
    const scopes = typeof result.scope === 'string' ? result.scope.split(' ').filter(Boolean) : this.config.scopes;
    const { generation } = await this.deps.store.connect(
      {
        user: pending.user,
        server: this.server,
        provider: this.providerName,
        scopes,
        refreshToken: result.refresh_token ? await this.deps.vault.sealValue(tokenContext(this.server, pending.user, 'refresh'), result.refresh_token) : null,
        accessToken: await this.deps.vault.sealValue(tokenContext(this.server, pending.user, 'access'), result.access_token),
        accessExpiresAt: expiresAt,
      },
      now,
    );
    this.#remember(pending.user, { token: result.access_token, expiresAt, generation });
    await this.deps.audit.append(
      AuditKind.ConnectionConnected,
      {
        actor: { sub: pending.user },
        target: { server: this.server },
        connection: { provider: this.providerName, scopes, refreshToken: result.refresh_token !== undefined },
      },
      { durable: true },
    );
    return (await this.deps.store.get(pending.user, this.server)) as ConnectionRecord;
  }

  /** Forgets the user's tokens in this process (after a disconnect or revocation elsewhere). */
  forget(user: string): void {
    this.#memory.delete(user);
  }

  /**
   * Revokes a removed connection's tokens at the provider (RFC 7009), when it offers a
   * revocation endpoint. Returns what happened; never throws for the provider's answer.
   */
  async revokeAtProvider(record: ConnectionRecord): Promise<'revoked' | 'unsupported' | 'failed'> {
    this.#memory.delete(record.user);
    let as: oauth.AuthorizationServer;
    try {
      as = await this.endpoints.metadata();
    } catch {
      return 'failed';
    }
    if (!as.revocation_endpoint) return 'unsupported';
    const tokens: [SealedSecret | null, 'refresh_token' | 'access_token', 'refresh' | 'access'][] = [
      [record.refreshToken, 'refresh_token', 'refresh'],
      [record.accessToken, 'access_token', 'access'],
    ];
    let failed = false;
    for (const [sealed, hint, kind] of tokens) {
      if (!sealed) continue;
      try {
        const token = await this.deps.vault.openValue(tokenContext(this.server, record.user, kind), sealed);
        const response = await oauth.revocationRequest(as, this.endpoints.client, await this.endpoints.clientAuth(), token, {
          ...this.endpoints.http(),
          additionalParameters: new URLSearchParams({ token_type_hint: hint }),
        });
        await oauth.processRevocationResponse(response);
      } catch (error) {
        failed = true;
        this.deps.log.warn({ server: this.server, user: record.user, err: (error as Error).message }, 'revoking a token at the provider failed');
      }
    }
    return failed ? 'failed' : 'revoked';
  }
}
