import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { actorOf, AuditKind, hashArguments, type AuditLog } from '../../audit/index.js';
import type { Principal } from '../../tokens/index.js';
import { JsonRpcError } from '../../errors/index.js';
import { type ClaimProblem, INVALID_REQUEST_STATE, type StatelessRequestContext } from './input-required.js';
import { META, metaOf } from './protocol.js';

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

/** What the client is told about a retry that cannot resume anything (never which check failed beyond the reason code). */
export const CLAIM_PROBLEM_MESSAGE: Readonly<Record<ClaimProblem, string>> = {
  malformed: 'Invalid params: requestState is not a state Gatehouse issued',
  tampered: 'Invalid params: requestState is not a state Gatehouse issued',
  expired: 'Invalid params: requestState has expired; send the request again without it',
  wrong_principal: 'Invalid params: requestState was issued to another user or client',
  wrong_request: 'Invalid params: requestState was issued for another request (method, target or arguments differ)',
  not_pending: 'Invalid params: requestState was already used, or the request it resumes is no longer waiting',
  issued_elsewhere:
    'Invalid params: requestState was issued by another Gatehouse node (or before a restart), where the request it resumes is waiting; send the request again without requestState and inputResponses',
  invalid_responses: 'Invalid params: inputResponses must answer the input requests with results of their kind',
};

/** The error for a retry whose `requestState` resumes nothing (HTTP 400 at the front door, `-32602` with the reason). */
export function requestStateRefused(problem: ClaimProblem): JsonRpcError {
  return new JsonRpcError(INVALID_REQUEST_STATE, CLAIM_PROBLEM_MESSAGE[problem], { code: 'mcp.request_state_invalid', reason: problem });
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
