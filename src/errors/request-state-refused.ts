import { JsonRpcError } from './json-rpc.js';

/**
 * Why a stateless retry's `requestState` resumes nothing. Stable codes: they reach the audit log
 * and the client's error data. The first six are the seal's verdicts (request-state.ts), the last
 * two the waiting request's.
 */
export type ClaimProblem =
  | 'malformed'
  | 'tampered'
  | 'expired'
  | 'wrong_principal'
  | 'wrong_request'
  | 'issued_elsewhere'
  | 'not_pending'
  | 'invalid_responses';

/** The stateless revision refuses a bad retry as invalid params (mrtr: the server rejects state it did not issue). */
export const INVALID_REQUEST_STATE = -32602;

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
