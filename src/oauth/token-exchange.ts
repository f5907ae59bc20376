// oidc-provider exposes no public helper for DPoP proofs at the token endpoint to custom
// grants; the built-in grants use this module, so the exchange validates proofs exactly as
// the authorization_code and refresh_token grants do.
// @ts-expect-error -- internal module without type declarations
import validateDpop, { checkDpopReplay } from 'oidc-provider/lib/helpers/validate_dpop.js';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { AuditKind, type AuditLog } from '../audit/index.js';
import type { UserDirectory } from '../identity/users.js';
import {
  checkReach,
  detailWithin,
  isToolCallDetail,
  scopesWithin,
  toolCallDetailProblem,
  type AccessTokenVerifier,
  type KeyRing,
  type Principal,
  type ToolCallDetail,
} from '../tokens/index.js';
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
  serverNames(): readonly string[];
  extraClaims: WeakMap<object, Record<string, unknown>>;
  instanceId?: string | undefined;
}

function parseDetails(raw: unknown, knownServer: (s: string) => boolean): ToolCallDetail[] {
  let details: unknown;
  try {
    details = JSON.parse(String(raw));
  } catch {
    throw new errors.InvalidAuthorizationDetails('authorization_details is not valid JSON');
  }
  if (!Array.isArray(details) || details.length === 0) throw new errors.InvalidAuthorizationDetails('authorization_details must be a non-empty array');
  return details.map((d, i) => {
    if (!isToolCallDetail(d)) throw new errors.InvalidAuthorizationDetails(`authorization_details[${i}]: only type gatehouse_tool_call is supported`);
    const problem = toolCallDetailProblem(d as unknown as Record<string, unknown>, knownServer);
    if (problem) throw new errors.InvalidAuthorizationDetails(`authorization_details[${i}]: ${problem}`);
    return d;
  });
}

/**
 * RFC 8693 token exchange for delegation to a sub-agent. The result is only ever narrower
 * than the subject token — scopes, tool calls and lifetime — and names the new actor on top of
 * the previous ones in `act` (RFC 8693 §4.1: the current actor outermost, earlier actors
 * nested). Any attempt to widen is refused with the error for what was widened.
 */
export function tokenExchangeHandler(deps: TokenExchangeDeps) {
  return async function tokenExchange(ctx: KoaContextWithOIDC): Promise<void> {
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const client = ctx.oidc.client;
    const provider = ctx.oidc.provider as Provider;
    if (!client) throw new errors.InvalidClient('client authentication failed');
    if (!params.subject_token) throw new errors.InvalidRequest('missing required parameter subject_token');
    if (params.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
    if (params.actor_token !== undefined) throw new errors.InvalidRequest('actor_token is not supported: the authenticated client is the actor');
    // RFC 8707 as everywhere else: the resource is named, and it is this gateway's /mcp.
    const resource = params.resource ?? params.audience;
    if (resource !== deps.audience || (params.audience !== undefined && params.audience !== deps.audience)) {
      throw new errors.InvalidTarget(`tokens can only be exchanged for ${deps.audience}`);
    }

    let subject: Principal;
    try {
      subject = await deps.verifier.verify(params.subject_token);
    } catch {
      throw new errors.InvalidGrant('subject_token is invalid, expired or revoked');
    }

    // A sender-constrained subject token can only be exchanged by its holder.
    const dPoP = (await validateDpop(provider, ctx)) as { thumbprint: string } | undefined;
    if (subject.dpopJkt && dPoP?.thumbprint !== subject.dpopJkt) throw new errors.InvalidGrant('subject_token is DPoP-bound: prove possession of its key');
    if (dPoP) await checkDpopReplay(provider, ctx, dPoP, client.clientId);

    const user = await deps.users.get(subject.sub);
    if (!user || user.disabledAt !== null) throw new errors.InvalidGrant('the subject is not an active user');

    const scopes = params.scope ? [...new Set(params.scope.split(' ').filter(Boolean))] : [...subject.scopes];
    if (!scopesWithin(scopes, subject.scopes)) throw new errors.InvalidScope('the requested scope is wider than the subject token\'s', params.scope ?? '');

    const knownServer = (s: string) => deps.serverNames().includes(s);
    let details: ToolCallDetail[] | undefined;
    if (params.authorization_details !== undefined) {
      details = parseDetails(params.authorization_details, knownServer);
      for (const detail of details) {
        const within = subject.authorizationDetails
          ? (subject.authorizationDetails.filter(isToolCallDetail) as unknown as ToolCallDetail[]).some((wide) => detailWithin(detail, wide))
          : checkReach({ ...subject, authorizationDetails: undefined, scopes }, { kind: 'tool', server: detail.server, name: detail.tool, id: `${detail.server}__${detail.tool}` }, false).ok;
        if (!within) throw new errors.InvalidAuthorizationDetails(`authorization_details for ${detail.server}__${detail.tool} are wider than the subject token allows`);
      }
    } else if (subject.authorizationDetails) {
      details = subject.authorizationDetails.filter(isToolCallDetail) as unknown as ToolCallDetail[];
    }

    const now = Date.now();
    const remainingSec = Math.floor((subject.expiresAt - now) / 1000);
    let ttlSec = Math.min(Math.floor(deps.defaultTtlMs / 1000), remainingSec);
    if (params.expires_in !== undefined) {
      const requested = Number(params.expires_in);
      if (!Number.isInteger(requested) || requested <= 0) throw new errors.InvalidRequest('expires_in must be a positive integer (seconds)');
      if (requested > remainingSec) throw new errors.InvalidRequest('expires_in would outlive the subject token');
      ttlSec = Math.min(ttlSec, requested);
    }
    if (ttlSec < 1) throw new errors.InvalidGrant('subject_token is about to expire');

    const previous = subject.claims.act as Record<string, unknown> | undefined;
    const prior = previous ?? (subject.clientId && subject.clientId !== client.clientId ? { sub: subject.clientId } : undefined);
    const act = { sub: client.clientId, ...(prior ? { act: prior } : {}) };

    const at = new provider.AccessToken({
      accountId: subject.sub,
      client,
      gty: TOKEN_EXCHANGE_GRANT,
      scope: scopes.join(' '),
      expiresIn: ttlSec,
      ...(subject.grantId ? { grantId: subject.grantId } : {}),
    } as never);
    at.resourceServer = new provider.ResourceServer(deps.audience, {
      audience: deps.audience,
      scope: scopes.join(' '),
      accessTokenTTL: ttlSec,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'EdDSA', kid: deps.keys.signingKey().kid } },
    } as never);
    at.scope = scopes.join(' ');
    if (details) (at as unknown as { rar: unknown }).rar = details;
    if (dPoP) at.setThumbprint('jkt', dPoP.thumbprint);
    deps.extraClaims.set(ctx, {
      groups: user.groups,
      act,
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
        actor: { sub: subject.sub, client: client.clientId, jti: subject.jti, act: [client.clientId, ...subject.act] },
        issued: { jti: at.jti, scope: at.scope, expiresIn: ttlSec, act, ...(details ? { authorizationDetails: details } : {}) },
      },
      { durable: false },
    );
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: at.tokenType,
      expires_in: ttlSec,
      scope: at.scope,
      ...(details ? { authorization_details: details } : {}),
    };
  };
}

export { TOKEN_EXCHANGE_GRANT };
