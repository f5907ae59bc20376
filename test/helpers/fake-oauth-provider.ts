import type { Server } from 'node:http';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { freePort } from './fake-idp.js';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

export interface FakeProviderOptions {
  /** Redirect URI of the Gatehouse client (`<publicUrl>/connections/callback`). */
  redirectUri: string;
  clientSecret: string;
  /** Access-token lifetime in seconds (default 3600). */
  accessTokenTtl?: number;
  /** Gatehouse's public keys: the STS accepts subject tokens signed with them. */
  subjectJwks?: JSONWebKeySet;
  /** Audience the subject tokens must carry. */
  subjectAudience?: string;
}

export interface Exchange {
  sub: string;
  audience: string;
  scope: string;
  token: string;
}

/**
 * oidc-provider on loopback playing a downstream SaaS provider (authorization code + PKCE with
 * rotating refresh tokens and reuse detection, RFC 7009 revocation, client credentials) and a
 * security token service (RFC 8693, trusting Gatehouse's subject tokens). Sign-in is headless:
 * `current` is signed in and consents at once. Every token it hands out and every token request
 * is recorded, so tests can count refreshes and prove no token leaked.
 */
export class FakeOAuthProvider {
  current = 'alice';
  /** Every access and refresh token issued. */
  readonly issued: string[] = [];
  readonly refreshTokens: string[] = [];
  /** Token requests by grant type. */
  readonly grants = new Map<string, number>();
  /** Answers to refresh requests (status), in order. */
  readonly refreshStatuses: number[] = [];
  readonly revoked: string[] = [];
  readonly exchanges: Exchange[] = [];
  private constructor(
    readonly issuer: string,
    readonly provider: Provider,
    private readonly server: Server,
  ) {}

  count(grant: 'refresh_token' | 'authorization_code' | 'client_credentials' | typeof TOKEN_EXCHANGE): number {
    return this.grants.get(grant) ?? 0;
  }

  /** True if `token` is a live access token of this provider (what the downstream API would check). */
  async accessTokenValid(token: string): Promise<boolean> {
    const found = (await this.provider.AccessToken.find(token)) ?? (await this.provider.ClientCredentials.find(token));
    return found !== undefined && !found.isExpired;
  }

  static async start(options: FakeProviderOptions): Promise<FakeOAuthProvider> {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    let self: FakeOAuthProvider | undefined;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'gatehouse-downstream',
          client_secret: options.clientSecret,
          redirect_uris: [options.redirectUri],
          grant_types: ['authorization_code', 'refresh_token', 'client_credentials', ...(options.subjectJwks ? [TOKEN_EXCHANGE] : [])],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
          scope: 'openid offline_access items:read items:write',
        },
      ],
      scopes: ['openid', 'offline_access', 'items:read', 'items:write'],
      features: {
        devInteractions: { enabled: false },
        revocation: { enabled: true },
        clientCredentials: { enabled: true },
      },
      pkce: { required: () => true },
      rotateRefreshToken: true,
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      ttl: { AccessToken: options.accessTokenTtl ?? 3600, ClientCredentials: options.accessTokenTtl ?? 3600, RefreshToken: 86_400, Grant: 86_400 },
      interactions: { url: (_ctx, interaction) => `/i/${interaction.uid}` },
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
      async loadExistingGrant(ctx) {
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client?.clientId, accountId: ctx.oidc.session?.accountId });
        const requested = String(ctx.oidc.params?.scope ?? '');
        grant.addOIDCScope(requested || 'openid');
        await grant.save();
        return grant;
      },
    });
    if (options.subjectJwks) {
      const jwks = createLocalJWKSet(options.subjectJwks);
      provider.registerGrantType(
        TOKEN_EXCHANGE,
        async (ctx: KoaContextWithOIDC) => {
          const params = ctx.oidc.params as Record<string, string | undefined>;
          let sub: string;
          try {
            const { payload } = await jwtVerify(params.subject_token as string, jwks, { audience: options.subjectAudience, typ: 'gatehouse-subject+jwt' });
            sub = payload.sub as string;
          } catch {
            ctx.status = 400;
            ctx.body = { error: 'invalid_grant', error_description: 'subject token not accepted' };
            return;
          }
          const scope = params.scope ?? '';
          const at = new provider.ClientCredentials({ client: ctx.oidc.client, scope, extra: { sub, aud: params.audience } } as never);
          const token = await at.save();
          self?.exchanges.push({ sub, audience: params.audience ?? '', scope, token });
          self?.issued.push(token);
          ctx.body = {
            access_token: token,
            issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
            token_type: 'Bearer',
            expires_in: at.expiration,
            scope,
          };
        },
        ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'scope', 'resource'],
      );
    }
    provider.use(async (ctx: KoaContextWithOIDC, next) => {
      if (ctx.path.startsWith('/i/')) {
        await provider.interactionFinished(
          ctx.req,
          ctx.res,
          { login: { accountId: self?.current as string }, consent: {} },
          { mergeWithLastSubmission: false },
        );
        ctx.respond = false;
        return;
      }
      let grant: string | undefined;
      if (ctx.path === '/token' && ctx.method === 'POST') {
        // Read the form once here; oidc-provider parses its own copy of the raw body.
        grant = (ctx.req.headers['content-type'] ?? '').includes('x-www-form-urlencoded') ? 'pending' : undefined;
      }
      await next();
      if (ctx.path === '/token' && ctx.method === 'POST') {
        const type = (ctx.oidc?.params?.grant_type as string | undefined) ?? grant ?? 'unknown';
        self?.grants.set(type, (self.grants.get(type) ?? 0) + 1);
        if (type === 'refresh_token') self?.refreshStatuses.push(ctx.status);
        if (ctx.status === 200) {
          const body = ctx.body as { access_token?: string; refresh_token?: string };
          if (body.access_token) self?.issued.push(body.access_token);
          if (body.refresh_token) {
            self?.issued.push(body.refresh_token);
            self?.refreshTokens.push(body.refresh_token);
          }
        }
      }
      if (ctx.path === '/token/revocation' && ctx.status === 200) self?.revoked.push(String(ctx.oidc?.params?.token ?? ''));
    });
    const server = provider.listen(port, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    self = new FakeOAuthProvider(issuer, provider, server);
    return self;
  }

  /** What a browser does: follows the authorization URL through the headless sign-in to the redirect. */
  async authorize(url: URL): Promise<URL> {
    const cookies = new Map<string, string>();
    let current = url;
    for (let i = 0; i < 10; i++) {
      const response = await fetch(current, {
        redirect: 'manual',
        headers: cookies.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
      });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = (pair as string).indexOf('=');
        cookies.set((pair as string).slice(0, eq), (pair as string).slice(eq + 1));
      }
      const location = response.headers.get('location');
      await response.arrayBuffer();
      if (!location) throw new Error(`the provider answered ${response.status} without a redirect at ${current.pathname}`);
      const next = new URL(location, current);
      if (next.origin !== this.issuer) return next;
      current = next;
    }
    throw new Error('too many redirects at the provider');
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}
