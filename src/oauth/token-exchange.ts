// oidc-provider exposes no public helper for DPoP proofs at the token endpoint to custom
// grants; the built-in grants use this module, so the exchange validates proofs exactly as
// the authorization_code and refresh_token grants do.
// @ts-expect-error -- internal module without type declarations
import validateDpop, { checkDpopReplay } from 'oidc-provider/lib/helpers/validate_dpop.js';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { AuditKind, type AuditLog, namedActor } from '../audit/index.js';
import type { OAuthClientConfig } from '../config/index.js';
import type { UserDirectory } from '../identity/users.js';
import { ExchangeRefusal, narrowExchange, type AccessTokenVerifier, type KeyRing, type NarrowedToken, type Principal } from '../tokens/index.js';
import { storeUnavailableFrom } from '../errors/index.js';
import { TOKEN_EXCHANGE_GRANT } from './constants.js';

const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export { TOKEN_EXCHANGE_PARAMETERS } from './constants.js';

export interface TokenExchangeDeps {
  audience: string;
  verifier: AccessTokenVerifier;
  keys: KeyRing;
  users: UserDirectory;
  audit: AuditLog;
  defaultTtlMs: number;
  /** Client ids that may exchange tokens (see `exchangeClients`). */
  allowedClients: ReadonlySet<string>;
  serverNames(): readonly string[];
  extraClaims: WeakMap<object, Record<string, unknown>>;
  instanceId?: string | undefined;
}

/**
 * The clients that may use the grant: those listed in `oauth.tokenExchange.clients`, and
 * pre-registered clients whose configured `grantTypes` include it. Dynamically registered and
 * metadata-document clients are not among them unless listed by id: anyone can register one,
 * and a client nobody vouched for must not turn a token it was handed into tokens of its own.
 */
export function exchangeClients(oauth: { clients: readonly OAuthClientConfig[]; tokenExchange: { clients: readonly string[] } }): ReadonlySet<string> {
  return new Set([...oauth.tokenExchange.clients, ...oauth.clients.filter((c) => c.grantTypes.includes(TOKEN_EXCHANGE_GRANT)).map((c) => c.clientId)]);
}

/** RFC 8693 §2.2.2 and RFC 9396 §5 errors, as oidc-provider renders them. */
function protocolError(refusal: ExchangeRefusal): Error {
  switch (refusal.error) {
    case 'invalid_scope':
      return new errors.InvalidScope(refusal.message, '');
    case 'invalid_target':
      return new errors.InvalidTarget(refusal.message);
    case 'invalid_authorization_details':
      return new errors.InvalidAuthorizationDetails(refusal.message);
    default:
      return new errors.InvalidRequest(refusal.message);
  }
}

/**
 * RFC 8693 token exchange for delegation to a sub-agent. What the new token carries is decided
 * by `narrowExchange` from the subject token and the request alone (plus the user's current
 * groups, which can only take away): it is never wider than the subject token on any dimension.
 * Refusals mint nothing and are audited.
 */
export function tokenExchangeHandler(deps: TokenExchangeDeps) {
  return async function tokenExchange(ctx: KoaContextWithOIDC): Promise<void> {
    const params = ctx.oidc.params as Record<string, unknown>;
    const client = ctx.oidc.client;
    const provider = ctx.oidc.provider as Provider;
    if (!client) throw new errors.InvalidClient('client authentication failed');
    let subject: Principal | undefined;

    const refuse = (error: Error & { error?: string }, reason: string): never => {
      void deps.audit.append(
        AuditKind.TokenExchangeRefused,
        {
          actor: namedActor(subject?.sub ?? '-', { client: client.clientId, jti: subject?.jti, ip: ctx.ip }),
          outcome: { status: 'denied', code: error.error ?? 'invalid_request', message: reason },
        },
        { durable: false },
      );
      throw error;
    };

    // RFC 8693 §2.2.2: a client not authorized to use the grant is `unauthorized_client`.
    if (!deps.allowedClients.has(client.clientId)) {
      refuse(new errors.UnauthorizedClient('this client is not allowed to exchange tokens'), 'client not allowed to exchange tokens');
    }
    if (typeof params.subject_token !== 'string' || params.subject_token === '')
      refuse(new errors.InvalidRequest('missing required parameter subject_token'), 'no subject_token');
    if (params.subject_token_type !== ACCESS_TOKEN_TYPE)
      refuse(new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`), 'subject_token_type');
    if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE)
      refuse(new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`), 'requested_token_type');
    if (params.actor_token !== undefined)
      refuse(new errors.InvalidRequest('actor_token is not supported: the authenticated client is the actor'), 'actor_token');

    try {
      subject = await deps.verifier.verify(params.subject_token as string);
    } catch (error) {
      // A token that cannot be checked right now is not an invalid one (answered 503 upstream).
      if (storeUnavailableFrom(error)) throw error;
      // RFC 8693 §2.2.2: an invalid subject token is `invalid_request`.
      return refuse(new errors.InvalidRequest('subject_token is invalid, expired or revoked'), 'subject_token invalid');
    }

    // A sender-constrained subject token can only be exchanged by its holder.
    const dPoP = (await validateDpop(provider, ctx)) as { thumbprint: string } | undefined;
    if (subject.dpopJkt && dPoP?.thumbprint !== subject.dpopJkt)
      refuse(new errors.InvalidRequest('subject_token is DPoP-bound: prove possession of its key'), 'DPoP proof missing or for another key');
    if (dPoP) await checkDpopReplay(provider, ctx, dPoP, client.clientId);

    const user = await deps.users.get(subject.sub);
    if (!user || user.disabledAt !== null) return refuse(new errors.InvalidRequest('the subject is not an active user'), 'subject not an active user');

    let narrowed: NarrowedToken;
    try {
      narrowed = narrowExchange(
        subject,
        {
          scope: typeof params.scope === 'string' ? params.scope : undefined,
          authorizationDetails: typeof params.authorization_details === 'string' ? params.authorization_details : undefined,
          expiresIn: typeof params.expires_in === 'string' ? params.expires_in : undefined,
          resource: params.resource,
          audience: params.audience,
        },
        {
          audience: deps.audience,
          now: Date.now(),
          defaultTtlMs: deps.defaultTtlMs,
          userGroups: user.groups,
          actor: client.clientId,
          knownServer: (s) => deps.serverNames().includes(s),
        },
      );
    } catch (error) {
      // The audit record says what would have widened, not the request's text.
      if (error instanceof ExchangeRefusal) return refuse(protocolError(error), `would widen: ${error.dimension}`);
      throw error;
    }

    const scope = narrowed.scopes.join(' ');
    const ttlSec = narrowed.exp - narrowed.iat;
    const at = new provider.AccessToken({
      accountId: subject.sub,
      client,
      gty: TOKEN_EXCHANGE_GRANT,
      scope,
      expiresIn: ttlSec,
      ...(subject.grantId ? { grantId: subject.grantId } : {}),
    } as never);
    // Set explicitly so the expiry is the decided one to the second (never past the subject's).
    at.iat = narrowed.iat;
    at.exp = narrowed.exp;
    at.resourceServer = new provider.ResourceServer(narrowed.audience, {
      audience: narrowed.audience,
      scope,
      accessTokenTTL: ttlSec,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'EdDSA', kid: deps.keys.signingKey().kid } },
    } as never);
    at.scope = scope;
    if (narrowed.authorizationDetails) (at as unknown as { rar: unknown }).rar = narrowed.authorizationDetails;
    if (dPoP) at.setThumbprint('jkt', dPoP.thumbprint);
    deps.extraClaims.set(ctx, {
      groups: narrowed.groups,
      act: narrowed.act,
      ...(subject.amr.length ? { amr: subject.amr } : {}),
      ...(subject.authTime ? { auth_time: Math.floor(subject.authTime / 1000) } : {}),
      ...(subject.grantId ? { grant_id: subject.grantId } : {}),
      ...(deps.instanceId ? { gatehouse_instance: deps.instanceId } : {}),
    });
    ctx.oidc.entity('AccessToken', at);
    const value = await at.save();

    void deps.audit.append(
      AuditKind.TokenExchanged,
      {
        actor: namedActor(subject.sub, { client: client.clientId, jti: subject.jti, act: [client.clientId, ...subject.act] }),
        issued: {
          jti: at.jti,
          scope,
          groups: narrowed.groups,
          expiresIn: ttlSec,
          act: narrowed.act,
          ...(narrowed.authorizationDetails ? { authorizationDetails: narrowed.authorizationDetails } : {}),
        },
      },
      { durable: false },
    );
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: at.tokenType,
      expires_in: ttlSec,
      scope,
      ...(narrowed.authorizationDetails ? { authorization_details: narrowed.authorizationDetails } : {}),
    };
  };
}

export { TOKEN_EXCHANGE_GRANT };
