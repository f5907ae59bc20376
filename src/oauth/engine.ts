import type Provider from 'oidc-provider';
import { anonymousActor, AuditKind, namedActor } from '../audit/index.js';
import { ROUTES, TOKEN_EXCHANGE_GRANT, TOKEN_EXCHANGE_PARAMETERS } from './constants.js';
import { jwtTokenEndpoints } from './jwt-token-endpoints.js';
import { createProvider } from './provider.js';
import type { OAuthServerDeps } from './server.js';
import { answerStoreOutages } from './store-outage.js';
import { exchangeClients, tokenExchangeHandler } from './token-exchange.js';

/** The running protocol engine: oidc-provider and its node request handler. */
export interface Engine {
  provider: Provider;
  handler: (req: never, res: never) => Promise<void>;
  /** The signing key it was built with (rebuilt on rotation: its key store is fixed). */
  kid: string;
}

export interface EngineState {
  cookieKeys: string[];
  fetch: typeof globalThis.fetch;
  expectDocument(url: string): void;
  /** The client address the gateway decided for this request (see src/http/client-ip.ts). */
  ipOf(req: unknown): string | undefined;
  sessionLimits: Map<string, number>;
  extraClaims: WeakMap<object, Record<string, unknown>>;
}

/**
 * Builds the oidc-provider instance. Imported only when the first OAuth request arrives:
 * oidc-provider and its dependencies cost ~45 MB and ~150 ms, which a gateway that only serves
 * /mcp (CLI-minted service tokens, or clients whose tokens are still valid) never pays.
 */
export function buildEngine(deps: OAuthServerDeps, state: EngineState): Engine {
  const provider = createProvider({
    config: deps.config,
    store: deps.store,
    keys: deps.keys,
    users: deps.users,
    consents: deps.consents,
    access: deps.access,
    serverNames: deps.serverNames,
    cookieKeys: state.cookieKeys,
    secret: deps.secret,
    fetch: state.fetch,
    expectDocument: state.expectDocument,
    ipOf: (ctx) => state.ipOf(ctx.req),
    log: deps.log,
    sessionLimits: state.sessionLimits,
    extraClaims: state.extraClaims,
    instanceId: deps.instanceId,
    onReuse: (grantId) => deps.revokeGrant(grantId, 'gatehouse:reuse-detection'),
  });
  // First, so it is the outermost of our middlewares and sees what each of them throws.
  answerStoreOutages(provider);
  if (deps.config.oauth.tokenExchange.enabled) {
    provider.registerGrantType(
      TOKEN_EXCHANGE_GRANT,
      tokenExchangeHandler({
        audience: `${deps.config.publicUrl}/mcp`,
        verifier: deps.verifier,
        keys: deps.keys,
        users: deps.users,
        audit: deps.audit,
        defaultTtlMs: deps.config.tokens.defaultTtl,
        allowedClients: exchangeClients(deps.config.oauth),
        serverNames: deps.serverNames,
        extraClaims: state.extraClaims,
        instanceId: deps.instanceId,
      }) as never,
      [...TOKEN_EXCHANGE_PARAMETERS],
      ['resource', 'audience'],
    );
  }
  const wait = deps.afterLatestRevocation;
  if (wait) {
    provider.use(async (ctx, next) => {
      if (ctx.method === 'POST' && ctx.path === ROUTES.token) await wait();
      await next();
    });
  }
  provider.use(jwtTokenEndpoints({ verifier: deps.verifier, revokeToken: (jti, exp, clientId) => deps.revokeToken(jti, exp, clientId) }) as never);
  events(provider, deps, state);
  return { provider, handler: provider.callback() as never, kid: deps.keys.signingKey().kid };
}

function events(provider: Provider, deps: OAuthServerDeps, state: EngineState): void {
  const { audit, log } = deps;
  const ipOf = (ctx: { req: unknown }) => state.ipOf(ctx.req);
  provider.on('grant.success', (ctx) => {
    const at = ctx.oidc.entities.AccessToken as { jti?: string; accountId?: string; scope?: string; gty?: string } | undefined;
    if (!at || at.gty?.includes(TOKEN_EXCHANGE_GRANT)) return;
    void audit.append(
      AuditKind.OAuthTokenIssued,
      {
        actor: namedActor(at.accountId ?? '-', { client: ctx.oidc.client?.clientId, ip: ipOf(ctx) }),
        issued: { jti: at.jti, grantType: ctx.oidc.params?.grant_type, scope: at.scope, refreshToken: Boolean(ctx.oidc.entities.RefreshToken) },
      },
      { durable: false },
    );
  });
  provider.on('grant.error', (ctx, error) => {
    const detail = `${(error as { error_detail?: string }).error_detail ?? ''} ${(error as { error_description?: string }).error_description ?? ''}`;
    if (/refresh token already used/.test(detail)) {
      // Refresh-token reuse: oidc-provider has revoked the whole family (grant).
      log.warn({ client: ctx.oidc.client?.clientId }, 'refresh token reuse detected; its grant was revoked');
      void audit.append(
        AuditKind.RefreshReuse,
        {
          actor: namedActor((ctx.oidc.entities.RefreshToken as { accountId?: string } | undefined)?.accountId ?? '-', {
            client: ctx.oidc.client?.clientId,
            ip: ipOf(ctx),
          }),
          outcome: { status: 'denied', code: 'oauth.refresh_reuse' },
        },
        { durable: false },
      );
    }
  });
  provider.on('registration_create.success', (ctx, client) => {
    void audit.append(
      AuditKind.ClientRegistered,
      { actor: anonymousActor(ipOf(ctx)), client: { id: client.clientId, name: client.clientName, redirectUris: client.redirectUris } },
      { durable: false },
    );
  });
  // oidc-provider revokes a grant when a code or refresh token is used twice, or a refresh
  // token is revoked (RFC 7009). It cannot reach the JWT access tokens issued under that
  // grant (they are not stored): the revocation list can, by their grant_id.
  provider.on('grant.revoked', (_ctx, grantId: string) => {
    void deps.revokeGrant(grantId, 'gatehouse:authorization-server').catch((error: unknown) => log.error({ err: error }, 'recording a revoked grant failed'));
  });
  provider.on('server_error', (ctx, error) => log.error({ err: error, route: ctx.oidc?.route }, 'authorization server error'));
}
