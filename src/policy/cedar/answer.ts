import type { AuthorizationAnswer, PartialAuthorizationAnswer } from './wasm.js';
import type { EvalResult } from './types.js';

export class CedarEvaluationError extends Error {}

/** Cedar's answer as an EvalResult; policy ids ordered by `order` (policy-set position). */
export function toResult(answer: AuthorizationAnswer, order: (id: string) => number): EvalResult {
  if (answer.type !== 'success') throw new CedarEvaluationError(`cedar: authorization failed: ${answer.errors.map((e) => e.message).join('; ')}`);
  const { decision, diagnostics } = answer.response;
  return {
    decision,
    reasons: [...diagnostics.reason].sort((a, b) => order(a) - order(b)),
    errors: diagnostics.errors.map((e) => ({ policy: e.policyId, message: e.error.message })).sort((a, b) => order(a.policy) - order(b.policy)),
  };
}

/** Partial evaluation (unknowns in context): 'unknown' when the decision depends on them. */
export function toPartialDecision(answer: PartialAuthorizationAnswer): 'allow' | 'deny' | 'unknown' {
  if (answer.type !== 'residuals') throw new CedarEvaluationError(`cedar: partial authorization failed: ${answer.errors.map((e) => e.message).join('; ')}`);
  return answer.response.decision ?? 'unknown';
}
