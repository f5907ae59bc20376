import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { registrationOpen } from './registration-mode.js';
import type { LoadedConfig } from '../config/index.js';
import type { ConditionalAccess } from '../identity/conditional-access.js';
import { isMultiFactor } from '../identity/conditional-access.js';
import type { UserDirectory } from '../identity/users.js';
import type { Logger } from '../log/index.js';
import type { ConsentStore, OAuthStore } from '../storage/index.js';
import { BASE_SCOPE, toolCallDetailProblem, TOOL_CALL_TYPE, type KeyRing } from '../tokens/index.js';
import { storeAdapter } from './adapter.js';
import { clientMetadataProblem } from './client-metadata-limits.js';
import { isLoopbackRedirect, validateRedirectUris } from './client-policy.js';
import { clientIdUrlProblem } from './safe-fetch.js';
import { messagePage } from './pages/message.js';

export { ACCOUNT_CLIENT_ID, ROUTES, TOKEN_EXCHANGE_GRANT } from './constants.js';
import { ACCOUNT_CLIENT_ID, ROUTES } from './constants.js';

export interface ProviderDeps {
  config: LoadedConfig;
  store: OAuthStore;
  keys: KeyRing;
  users: UserDirectory;
  consents: ConsentStore;
  access: ConditionalAccess;
  /** Configured server names (for server:/tool: scopes and authorization details). */
  serverNames(): readonly string[];
  cookieKeys: string[];
  /** Resolves `${VAR}` in a configured secret. */
  secret(value: string, where: string): string;
  fetch: typeof globalThis.fetch;
  /** Called just before a client metadata document is fetched (its own, smaller, size limit applies). */
  expectDocument?(url: string): void;
  /** The client's address for this request, as the gateway decided it (trusted proxies). */
  ipOf(ctx: KoaContextWithOIDC): string | undefined;
  log: Logger;
  /** Longest sign-in per user, learned at sign-in (conditional access), for the session lifetime. */
  sessionLimits: Map<string, number>;
  /** Extra access-token claims a grant handler computed for this request (token exchange: `act`). */
  extraClaims: WeakMap<object, Record<string, unknown>>;
  /** Memory-only mode: this process's id, stamped into access tokens. */
  instanceId?: string | undefined;
  /** A code or refresh token was used twice (a race the store caught): revoke its grant everywhere. */
  onReuse?(grantId: string): Promise<void>;
}

/** What an access token for `${publicUrl}/mcp` may carry as scope, given a request. */
function resourceScopes(requested: readonly string[], servers: readonly string[]): string {
  const known = new Set(servers);
  const allowed = new Set([BASE_SCOPE, ...servers.map((s) => `server:${s}`)]);
  for (const scope of requested) {
    if (scope.startsWith('server:') || scope.startsWith('tool:')) {
      const server = scope.startsWith('server:') ? scope.slice(7) : (scope.slice(5).split('__')[0] as string);
      const tool = scope.startsWith('tool:') ? scope.slice(5 + server.length + 2) : '';
      // Dropping an unknown narrowing scope would widen the token; refuse instead.
      if (!known.has(server) || (scope.startsWith('tool:') && (!scope.slice(5).startsWith(`${server}__`) || tool === ''))) {
        throw new errors.InvalidScope(`unknown server or tool in scope "${scope}"`, scope);
      }
      allowed.add(scope);
    }
  }
  return [...allowed].join(' ');
}

export function cookieNames(secure: boolean): { session: string; interaction: string; resume: string } {
  // `__Host-` needs HTTPS and Path=/. The resume cookie is scoped by oidc-provider to its
  // authorization path, so the strongest prefix it can carry is `__Secure-`. On plain-http
  // loopback (development), browsers refuse both prefixes: the same names go unprefixed.
  return secure
    ? { session: '__Host-gatehouse.session', interaction: '__Host-gatehouse.interaction', resume: '__Secure-gatehouse.resume' }
    : { session: 'gatehouse.session', interaction: 'gatehouse.interaction', resume: 'gatehouse.resume' };
}

/** Builds the oidc-provider instance: every choice below is one a security review would ask about. */
export function createProvider(deps: ProviderDeps): Provider {
  const { config } = deps;
  const publicUrl = config.publicUrl;
  const audience = `${publicUrl}/mcp`;
  const secure = publicUrl.startsWith('https:');
  const accessTokenTtl = Math.floor(config.tokens.defaultTtl / 1000);
  const memoryOnly = config.oauth.memoryOnly;

  const policy = interactionPolicy.base();
  // Sign in again when the current sign-in no longer meets the user's conditional access
  // (MFA now required, session too old, account disabled): the login page then decides.
  policy.get('login')?.checks.add(
    new interactionPolicy.Check('gatehouse_access', 'the sign-in does not meet conditional access', 'login_required', async (ctx: KoaContextWithOIDC) => {
      const { session } = ctx.oidc;
      if (!session?.accountId) return false;
      const user = await deps.users.get(session.accountId);
      if (!user || user.disabledAt !== null) return true;
      if (ctx.oidc.result?.login) return false;
      const amr = (session as unknown as { amr?: string[] }).amr ?? [];
      const refusal = deps.access.check(user.groups, {
        ip: undefined,
        mfa: isMultiFactor(amr, ['otp', 'mfa']),
        authTime: session.authTime() ? (session.authTime() as number) * 1000 : undefined,
      });
      return refusal !== undefined && refusal.code !== 'identity.network_not_allowed';
    }),
  );

  const preregistered = config.oauth.clients.map((c, i) => ({
    client_id: c.clientId,
    ...(c.clientName ? { client_name: c.clientName } : {}),
    redirect_uris: c.redirectUris,
    grant_types: c.grantTypes,
    response_types: ['code'],
    ...(c.clientSecret
      ? { client_secret: deps.secret(c.clientSecret, `oauth.clients[${i}].clientSecret`), token_endpoint_auth_method: 'client_secret_basic' }
      : { token_endpoint_auth_method: 'none' }),
    ...(c.dpopBoundAccessTokens || config.oauth.dpop.required ? { dpop_bound_access_tokens: true } : {}),
  }));
  const accountClient = {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Gatehouse account',
    redirect_uris: [`${publicUrl}/account/callback`],
    response_types: ['none'],
    grant_types: [],
    token_endpoint_auth_method: 'none',
    application_type: 'web',
  };

  const configuration: Configuration = {
    adapter: storeAdapter(deps.store, deps.onReuse) as unknown as Configuration['adapter'],
    clients: [...preregistered, accountClient] as Configuration['clients'],
    jwks: { keys: [JSON.parse(deps.keys.signingRecordPrivateJwk()) as never] },
    async findAccount(ctx, sub, token) {
      const user = await deps.users.get(sub);
      if (!user || user.disabledAt !== null) return undefined;
      // Refreshing is using the sign-in again: conditional access applies to it too.
      if (token && (token as { kind?: string }).kind === 'RefreshToken') {
        const rt = token as unknown as { amr?: string[]; authTime?: number };
        const refusal = deps.access.check(user.groups, {
          ip: deps.ipOf(ctx),
          mfa: isMultiFactor(rt.amr ?? [], ['otp', 'mfa', ...(config.identity.upstream?.mfaAmrValues ?? [])]),
          authTime: rt.authTime ? rt.authTime * 1000 : undefined,
        });
        if (refusal) throw new errors.InvalidGrant(refusal.message);
      }
      return { accountId: sub, claims: async () => ({ sub }) };
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      userinfo: { enabled: false },
      claimsParameter: { enabled: false },
      introspection: {
        enabled: true,
        // A public client may only introspect its own tokens; confidential clients any.
        allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client?.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      registration: {
        enabled: registrationOpen(config.oauth),
        initialAccessToken: false,
        issueRegistrationAccessToken: false,
      },
      clientIdMetadataDocument: {
        enabled: config.oauth.clientMetadataDocuments.enabled,
        ack: 'draft-02',
        // The client id must name a host by DNS name (no IP literal in any spelling, no
        // localhost): refused here with invalid_client. Every address is then checked in the
        // fetch itself, after DNS resolution (safe-fetch.ts, src/egress).
        allowFetch: async (_ctx, id) => {
          const problem = clientIdUrlProblem(id, { allowPrivate: config.oauth.clientMetadataDocuments.dangerouslyAllowPrivateAddresses });
          if (problem) throw new errors.InvalidClient(problem);
          deps.expectDocument?.(id);
          return true;
        },
        allowClient: async () => true,
        cacheDuration: { min: 60, max: 3600 },
      },
      resourceIndicators: {
        enabled: true,
        // RFC 8707: Gatehouse requires the resource parameter (MCP Authorization: clients MUST send it).
        defaultResource: async (_ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          if (client.clientId === ACCOUNT_CLIENT_ID) return undefined as unknown as string;
          throw new errors.InvalidTarget(`the resource parameter is required (RFC 8707); use ${audience}`);
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resource) => {
          if (resource !== audience) throw new errors.InvalidTarget(`unknown resource; this server issues tokens only for ${audience}`);
          const requested = (ctx.oidc.params?.scope as string | undefined)?.split(' ').filter(Boolean) ?? [];
          return {
            scope: resourceScopes(requested, deps.serverNames()),
            audience,
            accessTokenTTL: accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'EdDSA', kid: deps.keys.signingKey().kid } },
          };
        },
      },
      richAuthorizationRequests: {
        enabled: true,
        types: {
          [TOOL_CALL_TYPE]: {
            validate(_ctx, detail) {
              const problem = toolCallDetailProblem(detail as Record<string, unknown>, (name) => deps.serverNames().includes(name));
              if (problem) throw new errors.InvalidAuthorizationDetails(`${TOOL_CALL_TYPE}: ${problem}`);
            },
          },
        },
        // Exactly the details this request asked for and the user approved, never more.
        authorizationDetailsForGrantSource(ctx) {
          const requested = ctx.oidc.params?.authorization_details ? (JSON.parse(ctx.oidc.params.authorization_details as string) as unknown[]) : undefined;
          if (!requested) return undefined;
          const approved = (ctx.oidc.grant as unknown as { rar?: unknown[] } | undefined)?.rar ?? [];
          const json = new Set(approved.map((d) => JSON.stringify(d)));
          const granted = requested.filter((d) => json.has(JSON.stringify(d)));
          // An empty list is dropped by the engine, and a code without details is unrestricted:
          // a purpose-bound request none of whose details was approved gets no code at all.
          if (granted.length === 0) throw new errors.AccessDenied('none of the requested authorization_details was approved');
          return granted as never;
        },
        authorizationDetailsForAccessToken(_ctx, token, source) {
          return (source as unknown as { rar?: never } | undefined)?.rar ?? (token as unknown as { rar?: never }).rar;
        },
        authorizationDetailsForIntrospection(_ctx, token) {
          return (token as unknown as { rar?: never }).rar;
        },
      },
      dPoP: { enabled: true, allowReplay: false },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      clientCredentials: { enabled: false },
    },
    // Browser-based clients (e.g. MCP Inspector) call the token endpoint cross-origin: allowed
    // only from the origin of one of the client's own redirect URIs.
    clientBasedCORS: (_ctx, origin, client) => origin !== 'null' && (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin),
    pkce: { required: () => true },
    responseTypes: ['code', 'none'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'EdDSA',
      authorization_details_types: [TOOL_CALL_TYPE],
      ...(config.oauth.dpop.required ? { dpop_bound_access_tokens: true } : {}),
    },
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: {
      idTokenSigningAlgValues: ['EdDSA'],
      dPoPSigningAlgValues: ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'PS256', 'RS256'],
      clientAuthSigningAlgValues: ['EdDSA', 'ES256', 'ES384', 'PS256', 'RS256'],
    },
    extraClientMetadata: {
      properties: ['redirect_uris', 'scope'],
      validator(_ctx, key, _value, metadata) {
        if (key === 'redirect_uris') {
          // First of all (oidc-provider validates the standard fields after this): sizes, so
          // unauthenticated registrations and fetched documents cost nothing beyond a parse.
          const problem = clientMetadataProblem(metadata as Record<string, unknown>);
          if (problem) throw new errors.InvalidClientMetadata(problem);
          validateRedirectUris(metadata as Record<string, unknown>);
        }
        // A registered `scope` would only limit OpenID scopes here; what a token may reach is
        // decided per authorization (mcp/server:/tool:), so the value is not kept.
        if (key === 'scope') delete (metadata as Record<string, unknown>).scope;
      },
    },
    allowOmittingSingleRegisteredRedirectUri: false,
    acceptQueryParamAccessTokens: false,
    clockTolerance: 5,
    rotateRefreshToken: true,
    // Memory-only: no refresh tokens at all, so nothing outlives the process.
    issueRefreshToken: async (_ctx, client) => !memoryOnly && client.grantTypeAllowed('refresh_token') && client.clientId !== ACCOUNT_CLIENT_ID,
    expiresWithSession: async () => true,
    async extraTokenClaims(ctx, token) {
      if ((token as { kind?: string }).kind !== 'AccessToken') return undefined;
      const at = token as unknown as { accountId?: string; grantId?: string };
      const exchanged = deps.extraClaims.get(ctx);
      if (exchanged) return exchanged;
      const user = at.accountId ? await deps.users.get(at.accountId) : undefined;
      const source = (ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken) as { amr?: string[]; authTime?: number } | undefined;
      return {
        groups: user?.groups ?? [],
        ...(source?.amr ? { amr: source.amr } : {}),
        ...(source?.authTime ? { auth_time: source.authTime } : {}),
        ...(at.grantId ? { grant_id: at.grantId } : {}),
        ...(deps.instanceId ? { gatehouse_instance: deps.instanceId } : {}),
      };
    },
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const clientId = oidc.client?.clientId as string;
      const accountId = oidc.session?.accountId as string;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
      const requestedRar = (oidc.params?.authorization_details as string | undefined) ?? undefined;
      if (grantId) {
        const grant = await oidc.provider.Grant.find(grantId);
        const rar = (grant as unknown as { rar?: unknown[] } | undefined)?.rar;
        // A grant approved for specific tool calls is not a general approval: any other
        // request for this client goes back to the user.
        if (grant && rar?.length && !oidc.result?.consent && JSON.stringify(rar) !== (requestedRar ? JSON.stringify(JSON.parse(requestedRar)) : undefined))
          return undefined;
        if (grant) return grant;
      }
      if (clientId === ACCOUNT_CLIENT_ID && accountId) {
        const grant = new oidc.provider.Grant({ accountId, clientId });
        grant.addOIDCScope('openid');
        await grant.save();
        return grant;
      }
      // Remembered consent (the connected-clients record) for clients off this device, when
      // it covers everything asked and the redirect host is the one the user saw.
      if (!accountId || requestedRar || oidc.client?.applicationType === 'native') return undefined;
      const remembered = await deps.consents.get(accountId, clientId);
      const redirect = URL.parse(oidc.params?.redirect_uri as string);
      const requested = ((oidc.params?.scope as string | undefined) ?? '').split(' ').filter(Boolean);
      const resource = oidc.params?.resource as string | undefined;
      if (
        !remembered ||
        !redirect ||
        remembered.redirectHost !== redirect.host ||
        !requested.every((s) => remembered.scopes.includes(s)) ||
        resource !== audience
      )
        return undefined;
      const grant = new oidc.provider.Grant({ accountId, clientId });
      grant.addResourceScope(audience, requested.join(' '));
      await grant.save();
      await deps.consents.touch(accountId, clientId, Date.now());
      return grant;
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    cookies: {
      names: cookieNames(secure),
      long: { httpOnly: true, sameSite: 'lax', secure, signed: true, path: '/' },
      // Path=/ on the interaction cookie lets the SSO callback find the interaction (and
      // makes the `__Host-` prefix possible); oidc-provider scopes the resume cookie itself.
      short: { httpOnly: true, sameSite: 'lax', secure, signed: true, path: '/' },
      keys: deps.cookieKeys,
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      AuthorizationCode: 60,
      Interaction: 600,
      IdToken: 300,
      Grant: Math.floor(config.oauth.refreshTokenTtl / 1000),
      RefreshToken: Math.floor(config.oauth.refreshTokenTtl / 1000),
      Session: (_ctx, session) => {
        const limit = Math.min(config.identity.sessionMaxAge, (session.accountId && deps.sessionLimits.get(session.accountId)) || Infinity);
        const loginAt = (session.loginTs ?? Math.floor(Date.now() / 1000)) * 1000;
        return Math.max(1, Math.floor((loginAt + limit - Date.now()) / 1000));
      },
    },
    routes: ROUTES,
    fetch: deps.fetch,
    fetchResponseBodyLimits: {
      'client_id metadata document': config.oauth.clientMetadataDocuments.maxBytes,
      jwks_uri: 64 * 1024,
      sector_identifier_uri: 64 * 1024,
    },
    async renderError(ctx, out, error) {
      // Never a stack trace: the OAuth error code and the safe description only.
      deps.log.debug({ error: out.error, description: out.error_description, err: (error as Error).message }, 'authorization error page');
      const response = messagePage('Request refused', (out.error_description as string | undefined) ?? 'The authorization request could not be processed.', {
        code: out.error as string,
        status: Math.max(ctx.status, 400),
      });
      ctx.type = 'html';
      for (const [name, value] of response.headers) ctx.set(name, value);
      ctx.body = await response.text();
    },
    conformIdTokenClaims: true,
  };

  const provider = new Provider(publicUrl, configuration);
  // Koa trusts X-Forwarded-Proto only with `proxy`; the mount sets that header itself from
  // publicUrl and strips any client-sent X-Forwarded-* (see mount.ts).
  provider.proxy = secure;
  return provider;
}

export { isLoopbackRedirect };
