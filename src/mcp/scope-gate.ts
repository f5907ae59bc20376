import { isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { actorOf, AuditKind, targetOf, type AuditLog } from '../audit/index.js';
import { sanitizer } from '../sanitize/index.js';
import type { ConnectorOwner } from '../connectors/index.js';
import { checkReach, reachOf, stepUpScope, BASE_SCOPE, type Principal, type ReachTarget } from '../tokens/index.js';
import type { CatalogView } from './catalog-view.js';
import { resolveOperation } from './resolve-operation.js';

export interface ScopeGateDeps {
  view: CatalogView;
  audit: AuditLog;
  /** RFC 9728 metadata URL named in every challenge. */
  resourceMetadataUrl: string;
  /** Conditional access at the resource: a refusal reason for this principal calling from `ip`, or undefined. */
  networkCheck?(principal: Principal, ip: string | undefined): string | undefined;
}

/** Decides, before any message is dispatched, whether an HTTP request may proceed at all. */
export type Gate = (
  principal: Principal,
  sessionId: string | undefined,
  ip: string | undefined,
  messages: readonly JSONRPCMessage[],
) => Promise<Response | undefined>;

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The resource server's scope check, in the front door: a request the token's scopes do not
 * reach is answered with HTTP 403 and `WWW-Authenticate: Bearer error="insufficient_scope",
 * scope="…"` (RFC 6750 §3.1; MCP 2025-11-25 scope challenge handling), so the client can step
 * up. That needs the verdict before the message is dispatched (a JSON-RPC error inside a 200
 * could not carry the challenge), so the exposed tool name is resolved here with the same
 * CatalogView the Router uses. Only purpose-bound tokens (any server:/tool: scope) pay for the
 * lookup; argument bounds from authorization details are checked later, in the `token-scope`
 * pipeline stage, because no new scope could satisfy them.
 */
export function scopeGate(deps: ScopeGateDeps): Gate {
  return async (principal, sessionId, ip, messages) => {
    const refusedNetwork = deps.networkCheck?.(principal, ip);
    if (refusedNetwork !== undefined) {
      void deps.audit.append(
        AuditKind.ConditionalAccessDenied,
        {
          actor: actorOf(principal, { ip }),
          outcome: { status: 'denied', code: 'identity.network_not_allowed', message: refusedNetwork },
        },
        { durable: false },
      );
      return new Response(JSON.stringify({ error: 'access_denied', error_description: refusedNetwork, code: 'identity.network_not_allowed' }), {
        status: 403,
        headers: { 'content-type': 'application/json' },
      });
    }
    const reach = reachOf(principal);
    if (!reach.base) return challenge(deps, principal, sessionId, ip, undefined, undefined, BASE_SCOPE);
    if (reach.servers === undefined) return undefined;
    const owner: ConnectorOwner = { sub: principal.sub, sessionId: sessionId ?? '' };
    for (const message of messages) {
      if (!isJSONRPCRequest(message)) continue;
      const target = await resolveTarget(deps.view, message.method, (message.params ?? {}) as Record<string, unknown>, owner);
      if (!target) continue;
      const decision = checkReach(principal, target, false);
      if (!decision.ok && decision.reason === 'scope') return challenge(deps, principal, sessionId, ip, message, target, decision.missingScope);
    }
    return undefined;
  };
}

/** The methods whose target a narrowed token may not reach; others are refused (and audited) by the router. */
const GATED_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read', 'resources/subscribe']);

/** What the request addresses, resolved exactly as the router will; undefined for what the router refuses anyway. */
async function resolveTarget(view: CatalogView, method: string, params: Record<string, unknown>, owner: ConnectorOwner): Promise<ReachTarget | undefined> {
  if (!GATED_METHODS.has(method)) return undefined;
  try {
    const op = await resolveOperation(view, { method }, params, owner, { only: 'target' });
    return { kind: op.kind as ReachTarget['kind'], server: op.server, name: op.name, id: op.id };
  } catch {
    return undefined; // refused (and audited) by the router
  }
}

function challenge(
  deps: ScopeGateDeps,
  principal: Principal,
  sessionId: string | undefined,
  ip: string | undefined,
  message: (JSONRPCMessage & { id?: string | number; method?: string }) | undefined,
  target: ReachTarget | undefined,
  missing: string,
): Response {
  const scope = stepUpScope(principal, missing);
  // Target names come from upstream catalogs: the text goes through the outbound sanitizer, header included.
  const description = sanitizer.sanitize(
    target ? `This token does not reach ${target.kind} "${target.id}"; it needs scope "${missing}".` : `This token lacks the "${BASE_SCOPE}" scope.`,
    { kind: 'http-error' },
  );
  void deps.audit.append(
    AuditKind.CallDenied,
    {
      actor: actorOf(principal, { sessionId, ip }),
      method: message?.method,
      target: target ? targetOf(target) : {},
      decision: { effect: 'deny', reason: 'insufficient_scope' },
      outcome: { status: 'denied', code: 'auth.insufficient_scope', message: description },
    },
    { durable: false },
  );
  return new Response(
    JSON.stringify({
      jsonrpc: '2.0',
      id: message?.id ?? null,
      error: { code: -32003, message: description, data: { code: 'auth.insufficient_scope', reason: 'insufficient_scope', scope } },
    }),
    {
      status: 403,
      headers: {
        'content-type': 'application/json',
        'www-authenticate': `Bearer error="insufficient_scope", scope=${quote(scope)}, resource_metadata=${quote(deps.resourceMetadataUrl)}, error_description=${quote(description)}`,
      },
    },
  );
}
