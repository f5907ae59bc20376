import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { actorOf, AuditKind, hashArguments, type AuditLog } from '../../audit/index.js';
import { CLAIM_PROBLEM_MESSAGE, type ClaimProblem } from '../../errors/index.js';
import type { Principal } from '../../tokens/index.js';
import type { StatelessRequestContext } from './input-required.js';
import { META, metaOf } from '../../protocol/revision.js';

/** Retry fields of the stateless revision (mrtr §basic-workflow): top-level request params, for this hop only. */
const RETRY_FIELDS = ['inputResponses', 'requestState'] as const;

/** The target a multi-round-trip method names: its tool or prompt name, or its resource URI. */
const TARGET_FIELD: Readonly<Record<string, 'name' | 'uri'>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

/**
 * The per-request facts of a stateless request: what a state issued for it is bound to (the
 * verified token's user and client, never anything the client says about itself; the method,
 * its target and the hash of its arguments) and the capabilities it declared.
 */
export function statelessRequestContext(principal: Principal, message: JSONRPCMessage): StatelessRequestContext {
  const method = (message as { method?: unknown }).method;
  const params = ((message as { params?: unknown }).params ?? {}) as Record<string, unknown>;
  const field = typeof method === 'string' ? TARGET_FIELD[method] : undefined;
  const target = field ? params[field] : undefined;
  const capabilities = metaOf(message)?.[META.clientCapabilities];
  return {
    binding: {
      sub: principal.sub,
      client: principal.clientId ?? '',
      method: typeof method === 'string' ? method : '',
      target: typeof target === 'string' ? target : '',
      argsHash: hashArguments(field === 'uri' ? {} : (params.arguments ?? {})),
    },
    capabilities:
      typeof capabilities === 'object' && capabilities !== null && !Array.isArray(capabilities) ? (capabilities as Record<string, unknown>) : undefined,
  };
}

/** The retry fields a request carries, when it carries any. */
export function retryFieldsOf(message: JSONRPCMessage): { requestState: unknown; inputResponses: unknown } | undefined {
  // Reserved on requests only: a notification's params of the same names are its own business.
  if (!isRequest(message)) return undefined;
  const params = (message as { params?: unknown }).params;
  if (typeof params !== 'object' || params === null || !RETRY_FIELDS.some((f) => Object.hasOwn(params, f))) return undefined;
  const p = params as Record<string, unknown>;
  return { requestState: p.requestState, inputResponses: p.inputResponses };
}

/** The request without its retry fields: they answer Gatehouse, and never reach an upstream. */
export function withoutRetryFields<T extends JSONRPCMessage>(message: T): T {
  if (!isRequest(message)) return message;
  const params = (message as { params?: unknown }).params;
  if (typeof params !== 'object' || params === null) return message;
  const { inputResponses: _answers, requestState: _state, ...rest } = params as Record<string, unknown>;
  return { ...message, params: rest };
}

/**
 * A refused retry is on record: a state that fails its seal, or arrives with another user's or
 * client's token, is what an attempt to ride someone else's call looks like.
 */
export function auditRefusedRetry(
  audit: AuditLog,
  principal: Principal,
  ip: string | undefined,
  context: StatelessRequestContext,
  problem: ClaimProblem,
): void {
  const { method, target } = context.binding;
  // The target as the client named it (exposed name or URI), unresolved: the request went no further.
  const named = method === 'resources/read' ? { resource: target } : method === 'prompts/get' ? { prompt: target } : { tool: target };
  void audit.append(
    AuditKind.CallDenied,
    {
      actor: actorOf(principal, { ip }),
      method,
      target: named,
      decision: { effect: 'deny', reason: 'request_state_invalid' },
      outcome: { status: 'denied', code: 'mcp.request_state_invalid', message: CLAIM_PROBLEM_MESSAGE[problem] },
      reason: problem,
    },
    { durable: false },
  );
}

function isRequest(message: JSONRPCMessage): boolean {
  return 'method' in message && 'id' in message && message.id !== undefined;
}
