import type { Principal } from './principal.js';
import { checkReach, scopesWithin } from './reach.js';
import { detailWithin, isToolCallDetail, toolCallDetailProblem, type ToolCallDetail } from './tool-call-details.js';

/**
 * The decision behind RFC 8693 token exchange, without the protocol engine: what the new
 * token may carry, given the subject token and the request. Every dimension of the result is
 * the intersection of the subject's and what was asked, never anything from elsewhere:
 *
 * - groups: the subject token's groups that the user still has now (a group removed since the
 *   subject token was issued is not regained; a group the subject token did not carry is never
 *   added, whatever the user store says);
 * - scopes: each requested scope is one the subject holds, or a `server:`/`tool:` narrowing of
 *   what it reaches; the whole set reaches nothing the subject does not;
 * - audience: only this resource;
 * - authorization details: each requested detail is covered by one of the subject's (or by its
 *   scopes when it has none); none requested keeps the subject's;
 * - lifetime: ends no later than the subject's, and no later than the default lifetime;
 * - `act`: the new actor on top of the subject's chain (RFC 8693 §4.1).
 *
 * A request that would widen anything is refused with the RFC 8693 §2.2.2 / RFC 9396 error for
 * that dimension, and nothing is minted.
 */

export type ExchangeErrorCode = 'invalid_request' | 'invalid_scope' | 'invalid_target' | 'invalid_authorization_details';

/** What the refused request would have widened (safe to record: never the request's own text). */
export type ExchangeDimension = 'audience' | 'scope' | 'authorization_details' | 'lifetime' | 'act';

export class ExchangeRefusal extends Error {
  constructor(
    readonly error: ExchangeErrorCode,
    message: string,
    readonly dimension: ExchangeDimension = error === 'invalid_target' ? 'audience' : error === 'invalid_scope' ? 'scope' : 'authorization_details',
  ) {
    super(message);
    this.name = 'ExchangeRefusal';
  }
}

/** What of the subject token the decision reads (a verified `Principal` has all of it). */
export type ExchangeSubject = Pick<Principal, 'groups' | 'scopes' | 'authorizationDetails' | 'expiresAt' | 'clientId' | 'claims'>;

/** The request parameters, as received (strings from the form body). */
export interface ExchangeRequest {
  scope?: string | undefined;
  /** JSON text of an RFC 9396 array. */
  authorizationDetails?: string | undefined;
  /** Requested lifetime in seconds (an extension parameter). */
  expiresIn?: string | undefined;
  resource?: unknown;
  audience?: unknown;
}

export interface ExchangeContext {
  /** The only resource tokens are minted for: `${publicUrl}/mcp`. */
  audience: string;
  now: number;
  defaultTtlMs: number;
  /** The user's groups in the user store right now. */
  userGroups: readonly string[];
  /** The authenticated client doing the exchange: the new actor. */
  actor: string;
  knownServer(name: string): boolean;
}

export interface NarrowedToken {
  audience: string;
  scopes: string[];
  groups: string[];
  /** undefined: the subject carried none and none were requested. */
  authorizationDetails: Record<string, unknown>[] | undefined;
  /** Issued-at and expiry, epoch seconds; `exp` never exceeds the subject's. */
  iat: number;
  exp: number;
  act: Record<string, unknown>;
}

/** A delegation chain deeper than this is refused: nobody needs it, and it bounds token size. */
export const MAX_ACT_DEPTH = 8;
const MAX_DETAILS = 32;
const MAX_SCOPES = 64;

function parseScopes(raw: string): string[] {
  return [...new Set(raw.split(' ').filter(Boolean))];
}

function scopeNames(scope: string): { server: string; tool?: string } | undefined {
  if (scope.startsWith('server:')) return { server: scope.slice(7) };
  if (!scope.startsWith('tool:')) return undefined;
  const qualified = scope.slice(5);
  const at = qualified.indexOf('__');
  if (at <= 0 || at + 2 >= qualified.length) return { server: '' };
  return { server: qualified.slice(0, at), tool: qualified.slice(at + 2) };
}

function narrowScopes(requested: string | undefined, subject: readonly string[], knownServer: (s: string) => boolean): string[] {
  if (requested === undefined) return [...new Set(subject)];
  const scopes = parseScopes(requested);
  if (scopes.length > MAX_SCOPES) throw new ExchangeRefusal('invalid_scope', `at most ${MAX_SCOPES} scopes`);
  const held = new Set(subject);
  for (const scope of scopes) {
    if (held.has(scope)) continue;
    // Not held as such: only a server:/tool: narrowing of what the subject reaches may be new.
    const names = scopeNames(scope);
    if (!names) throw new ExchangeRefusal('invalid_scope', `the subject token does not hold scope "${scope}"`);
    if (!knownServer(names.server)) throw new ExchangeRefusal('invalid_scope', `unknown server or tool in scope "${scope}"`);
  }
  if (!scopesWithin(scopes, subject)) throw new ExchangeRefusal('invalid_scope', "the requested scope is wider than the subject token's");
  return scopes;
}

function parseDetails(raw: string, knownServer: (s: string) => boolean): ToolCallDetail[] {
  let details: unknown;
  try {
    details = JSON.parse(raw);
  } catch {
    throw new ExchangeRefusal('invalid_authorization_details', 'authorization_details is not valid JSON');
  }
  if (!Array.isArray(details) || details.length === 0)
    throw new ExchangeRefusal('invalid_authorization_details', 'authorization_details must be a non-empty array');
  if (details.length > MAX_DETAILS) throw new ExchangeRefusal('invalid_authorization_details', `at most ${MAX_DETAILS} authorization details`);
  return details.map((d: unknown, i) => {
    if (typeof d !== 'object' || d === null || Array.isArray(d) || !isToolCallDetail(d)) {
      throw new ExchangeRefusal('invalid_authorization_details', `authorization_details[${i}]: only type gatehouse_tool_call is supported`);
    }
    const problem = toolCallDetailProblem(d as unknown as Record<string, unknown>, knownServer);
    if (problem) throw new ExchangeRefusal('invalid_authorization_details', `authorization_details[${i}]: ${problem}`);
    return d;
  });
}

function narrowDetails(
  request: ExchangeRequest,
  subject: ExchangeSubject,
  scopes: readonly string[],
  knownServer: (s: string) => boolean,
): Record<string, unknown>[] | undefined {
  const held = subject.authorizationDetails;
  if (request.authorizationDetails === undefined) {
    if (held === undefined) return undefined;
    // An empty list cannot be carried (the engine drops it, and no claim means "unrestricted"):
    // a subject bound to nothing has nothing to delegate.
    if (held.length === 0) throw new ExchangeRefusal('invalid_request', 'the subject token reaches no tool call, so there is nothing to delegate');
    return held.map((d) => ({ ...d }));
  }
  const requested = parseDetails(request.authorizationDetails, knownServer);
  const wide = held?.filter((d): d is ToolCallDetail & Record<string, unknown> => isToolCallDetail(d));
  for (const detail of requested) {
    const within = wide
      ? wide.some((w) => detailWithin(detail, w))
      : checkReach(
          { ...subjectAsPrincipal(subject), scopes },
          { kind: 'tool', server: detail.server, name: detail.tool, id: `${detail.server}__${detail.tool}` },
          false,
        ).ok;
    if (!within)
      throw new ExchangeRefusal(
        'invalid_authorization_details',
        `authorization_details for ${detail.server}__${detail.tool} are wider than the subject token allows`,
      );
  }
  return requested as unknown as Record<string, unknown>[];
}

function subjectAsPrincipal(subject: ExchangeSubject): Principal {
  return {
    sub: '',
    jti: '',
    issuedAt: 0,
    act: [],
    authTime: undefined,
    amr: [],
    grantId: undefined,
    dpopJkt: undefined,
    ...subject,
    authorizationDetails: undefined,
  };
}

/** The subject's `act` claim, checked: nested objects with a string `sub`, at most MAX_ACT_DEPTH deep. */
function actChain(claim: unknown): Record<string, unknown> | undefined {
  if (claim === undefined) return undefined;
  const subs: string[] = [];
  let node: unknown = claim;
  while (node !== undefined) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || typeof (node as { sub?: unknown }).sub !== 'string') {
      throw new ExchangeRefusal('invalid_request', 'the subject token has a malformed act claim', 'act');
    }
    subs.push((node as { sub: string }).sub);
    if (subs.length >= MAX_ACT_DEPTH) throw new ExchangeRefusal('invalid_request', `delegation chains are limited to ${MAX_ACT_DEPTH} actors`, 'act');
    node = (node as { act?: unknown }).act;
  }
  // Rebuilt from the checked subjects only: nothing else the claim held is carried over.
  let rebuilt: Record<string, unknown> | undefined;
  for (const sub of subs.reverse()) rebuilt = { sub, ...(rebuilt ? { act: rebuilt } : {}) };
  return rebuilt;
}

export function narrowExchange(subject: ExchangeSubject, request: ExchangeRequest, context: ExchangeContext): NarrowedToken {
  // RFC 8707 as everywhere else: the resource is named, and it is this gateway's /mcp.
  const resource = request.resource ?? request.audience;
  if (resource !== context.audience || (request.audience !== undefined && request.audience !== context.audience)) {
    throw new ExchangeRefusal('invalid_target', `tokens can only be exchanged for ${context.audience}`);
  }

  const scopes = narrowScopes(request.scope, subject.scopes, context.knownServer);
  const authorizationDetails = narrowDetails(request, subject, scopes, context.knownServer);

  const current = new Set(context.userGroups);
  const groups = [...new Set(subject.groups)].filter((g) => current.has(g));

  const iat = Math.floor(context.now / 1000);
  const subjectExp = Math.floor(subject.expiresAt / 1000);
  const remaining = subjectExp - iat;
  let ttl = Math.min(Math.floor(context.defaultTtlMs / 1000), remaining);
  if (request.expiresIn !== undefined) {
    if (!/^[0-9]{1,9}$/.test(request.expiresIn) || Number(request.expiresIn) <= 0)
      throw new ExchangeRefusal('invalid_request', 'expires_in must be a positive integer (seconds)', 'lifetime');
    const requested = Number(request.expiresIn);
    if (requested > remaining) throw new ExchangeRefusal('invalid_request', 'expires_in would outlive the subject token', 'lifetime');
    ttl = Math.min(ttl, requested);
  }
  if (ttl < 1) throw new ExchangeRefusal('invalid_request', 'the subject token is about to expire', 'lifetime');

  const previous = actChain(subject.claims.act);
  const prior = previous ?? (subject.clientId && subject.clientId !== context.actor ? { sub: subject.clientId } : undefined);
  const act = { sub: context.actor, ...(prior ? { act: prior } : {}) };

  return { audience: context.audience, scopes, groups, authorizationDetails, iat, exp: iat + ttl, act };
}
