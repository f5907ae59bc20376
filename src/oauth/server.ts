import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Hono, type Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type Provider from 'oidc-provider';
import type { AuditLog } from '../audit/index.js';
import { auditBlockedEgress } from '../egress/index.js';
import type { LoadedConfig } from '../config/index.js';
import type { ConditionalAccess } from '../identity/conditional-access.js';
import type { UpstreamIdp } from '../identity/federation.js';
import type { UserDirectory } from '../identity/users.js';
import type { Logger } from '../log/index.js';
import type { ConsentStore, OAuthStore, SettingsStore } from '../storage/index.js';
import type { AccessTokenVerifier, KeyRing } from '../tokens/index.js';
import type { ConsoleAuth } from '../console/console-auth.js';
import { accountRoutes } from './account.js';
import { currentSession } from './browser-session.js';
import { sessionConsoleAuth } from './console-auth.js';
import { Csrf } from '../http/csrf.js';
import { interactionRoutes, type NodeEnv } from './interactions.js';
import { messagePage } from './pages/message.js';
import { ROUTES } from './constants.js';
import type { Engine } from './engine.js';
import { checkRegistrationBody } from './registration-body.js';
import { safeFetch } from './safe-fetch.js';

export interface OAuthServerDeps {
  config: LoadedConfig;
  store: OAuthStore;
  settings: SettingsStore;
  consents: ConsentStore;
  keys: KeyRing;
  verifier: AccessTokenVerifier;
  users: UserDirectory;
  access: ConditionalAccess;
  upstream: UpstreamIdp | undefined;
  audit: AuditLog;
  log: Logger;
  serverNames(): readonly string[];
  /** Memory-only mode: stamped into every access token; another process's tokens are refused. */
  instanceId?: string | undefined;
  secret(value: string, where: string): string;
  clientIp(c: Context): string | undefined;
  /** Revokes one access token (RFC 7009 on a JWT). */
  revokeToken(jti: string, expiresAt: number, by: string): Promise<void>;
  /** Revokes a grant: its tokens, refresh family and MCP sessions. */
  revokeGrant(grantId: string, by: string): Promise<void>;
  /** Catches up with commits from other processes (a key rotated by the CLI, revocations). */
  catchUp?(): Promise<void> | undefined;
  /** Resolves when a token signed now would not fall in the second of a recent revocation. */
  afterLatestRevocation?(): Promise<void>;
}

const COOKIE_KEY = 'oauth.cookie_key';

/** A client's jwks_uri or sector_identifier_uri: oidc-provider's own limit for them. */
const OTHER_DOCUMENT_BYTES = 64 * 1024;

const REGISTRATION_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Authorization',
  'access-control-max-age': '600',
};

/**
 * The authorization server: oidc-provider for the protocol, Gatehouse for who the users are,
 * what they consent to, and what a token may reach. Mounted into the gateway's Hono app; the
 * Koa app behind oidc-provider gets node's request and response directly.
 */
export class OAuthServer {
  #engine: Engine | undefined;
  #loading: Promise<Engine> | undefined;
  readonly #sessionLimits = new Map<string, number>();
  readonly #extraClaims = new WeakMap<object, Record<string, unknown>>();
  readonly #csrf: Csrf;
  readonly #fetch: typeof globalThis.fetch;
  /** Client ids whose metadata document is about to be fetched (its smaller limit applies). */
  readonly #expected = new Set<string>();
  /** The client address decided for each request handed to oidc-provider. */
  readonly #ips = new WeakMap<object, string | undefined>();

  private constructor(
    private readonly deps: OAuthServerDeps,
    private readonly cookieKeys: string[],
  ) {
    this.#csrf = new Csrf(Buffer.from(cookieKeys[0] as string, 'base64url'));
    const cimd = deps.config.oauth.clientMetadataDocuments;
    this.#fetch = safeFetch({
      allowPrivate: cimd.dangerouslyAllowPrivateAddresses,
      caFile: cimd.caFile ? path.resolve(deps.config.baseDir, cimd.caFile) : undefined,
      maxBytes: (url) => (this.#expected.delete(url) ? cimd.maxBytes : OTHER_DOCUMENT_BYTES),
      onBlocked: auditBlockedEgress(deps.audit),
    });
  }

  static async create(deps: OAuthServerDeps): Promise<OAuthServer> {
    // Cookie signing (and CSRF) key: persisted so a restart does not break sign-ins in
    // flight, except in memory-only mode where nothing of the sort survives a restart.
    let key = deps.config.oauth.memoryOnly ? undefined : await deps.settings.get(COOKIE_KEY);
    if (!key) {
      key = randomBytes(32).toString('base64url');
      if (!deps.config.oauth.memoryOnly) await deps.settings.set(COOKIE_KEY, key);
    }
    if (deps.config.oauth.clientMetadataDocuments.dangerouslyAllowPrivateAddresses) {
      deps.log.warn(
        'oauth.clientMetadataDocuments.dangerouslyAllowPrivateAddresses is on: client metadata documents may be fetched from loopback and private addresses (SSRF). Use only in tests.',
      );
    }
    return new OAuthServer(deps, [key]);
  }

  /** The protocol engine, loaded on first use and rebuilt when the signing key rotated. */
  async engine(): Promise<Engine> {
    const current = this.#engine;
    if (current && current.kid === this.deps.keys.signingKey().kid) return current;
    this.#loading ??= import('./engine.js')
      .then(({ buildEngine }) =>
        buildEngine(this.deps, {
          cookieKeys: this.cookieKeys,
          fetch: this.#fetch,
          expectDocument: (url) => {
            // Bounded: an entry lives until its fetch starts, which follows at once.
            if (this.#expected.size >= 1000) this.#expected.clear();
            this.#expected.add(url);
          },
          ipOf: (req) => (typeof req === 'object' && req !== null ? this.#ips.get(req) : undefined),
          sessionLimits: this.#sessionLimits,
          extraClaims: this.#extraClaims,
        }),
      )
      .then((engine) => (this.#engine = engine))
      .finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  #provider(): Provider {
    if (!this.#engine) throw new Error('the authorization server engine is not loaded');
    return this.#engine.provider;
  }

  /**
   * Who is signed in to the console: the browser's sign-in here (the session the
   * connected-clients page uses), with the users store's groups and the time of the last
   * second factor. Sign-in and step-up go through `/account/sign-in`.
   */
  consoleAuth(): ConsoleAuth {
    return sessionConsoleAuth({
      session: async (c) => currentSession((await this.engine()).provider, c),
      users: this.deps.users,
      mfaAmrValues: ['otp', 'mfa', ...(this.deps.config.identity.upstream?.mfaAmrValues ?? [])],
      access: this.deps.access,
      clientIp: this.deps.clientIp,
      ...(this.deps.catchUp ? { catchUp: this.deps.catchUp } : {}),
    });
  }

  /** Every route of the authorization server, the pages and discovery. */
  routes(): Hono<NodeEnv> {
    const app = new Hono<NodeEnv>();
    const { config } = this.deps;
    const publicUrl = new URL(config.publicUrl);
    const secure = publicUrl.protocol === 'https:';
    const allowedHost = publicUrl.host.toLowerCase();

    // DNS rebinding protection for the pages and endpoints too: only our own Host. (Paths
    // are listed: a `*` middleware here would apply to the whole gateway app once mounted.)
    const hostCheck = async (c: Context<NodeEnv>, next: () => Promise<void>) => {
      if (c.req.header('host')?.toLowerCase() !== allowedHost) return messagePage('Forbidden', 'Unknown host.', { status: 403, code: 'http.invalid_host' });
      await next();
    };
    const load = async (_c: Context<NodeEnv>, next: () => Promise<void>) => {
      await this.engine();
      await next();
    };
    for (const path of [
      '/oauth/*',
      '/interaction/*',
      '/account',
      '/account/*',
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]) {
      app.use(path, hostCheck);
      app.use(path, load);
    }

    app.route(
      '/',
      interactionRoutes({
        provider: () => this.#provider(),
        config,
        users: this.deps.users,
        access: this.deps.access,
        consents: this.deps.consents,
        audit: this.deps.audit,
        log: this.deps.log,
        csrf: this.#csrf,
        upstream: this.deps.upstream,
        sessionLimits: this.#sessionLimits,
        clientIp: this.deps.clientIp,
      }),
    );
    app.route(
      '/',
      accountRoutes({
        provider: () => this.#provider(),
        publicUrl: config.publicUrl,
        consents: this.deps.consents,
        oauthStore: this.deps.store,
        audit: this.deps.audit,
        csrf: this.#csrf,
        revokeGrant: this.deps.revokeGrant,
        clientIp: this.deps.clientIp,
      }),
    );

    // The JWKS comes from the key ring: the active key plus retired keys until their last
    // token has expired (rotation without a window where valid tokens fail to verify).
    app.get(ROUTES.jwks, (c) => c.json(this.deps.keys.publicJwks(), 200, { 'cache-control': 'public, max-age=60', 'access-control-allow-origin': '*' }));

    const forward = async (c: Context<NodeEnv>) => {
      const req = c.env?.incoming;
      const res = c.env?.outgoing;
      if (!req || !res) return c.json({ error: 'server_error', error_description: 'the authorization server needs the node HTTP server' }, 500);
      // Koa (with proxy=true, only for an https publicUrl) believes X-Forwarded-*: say the
      // truth about the scheme ourselves and drop what the client sent.
      let incoming = req;
      if (c.req.path === ROUTES.registration) for (const [name, value] of Object.entries(REGISTRATION_CORS)) res.setHeader(name, value);
      // Client registration is the only endpoint that reads a JSON body, and its router also
      // answers `/oauth/REGISTER` or `/oauth/register/`: so every JSON body, whatever the path
      // spelling, is held to the metadata limits before oidc-provider reads it.
      if ((c.req.method === 'POST' || c.req.method === 'PUT') && /json/i.test(c.req.header('content-type') ?? '')) {
        const checked = await checkRegistrationBody(req);
        if ('refusal' in checked) {
          return c.json({ error: 'invalid_client_metadata', error_description: checked.refusal }, 400, {
            ...REGISTRATION_CORS,
            'cache-control': 'no-store',
            ...(checked.close ? { connection: 'close' } : {}),
          });
        }
        incoming = checked.request;
      }
      this.#ips.set(incoming, this.deps.clientIp(c));
      delete req.headers['x-forwarded-for'];
      delete req.headers['x-forwarded-host'];
      delete req.headers['x-forwarded-proto'];
      if (secure) req.headers['x-forwarded-proto'] = 'https';
      const pending = this.deps.catchUp?.();
      if (pending) await pending;
      const { handler } = await this.engine();
      await handler(incoming as never, res as never);
      return RESPONSE_ALREADY_SENT;
    };
    app.on(['GET', 'OPTIONS'], ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'], forward);
    // RFC 7591 registration takes no credentials, and browser-based MCP clients (MCP Inspector's
    // web UI) call it cross-origin: it may be read from any origin. The token endpoint's CORS is
    // oidc-provider's, per client (`clientBasedCORS`: only a registered redirect URI's origin).
    app.options(ROUTES.registration, () => new Response(null, { status: 204, headers: REGISTRATION_CORS }));
    app.all('/oauth/*', forward);
    return app;
  }
}
