import { toPartialDecision, toResult } from './answer.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { policyRecord } from './sliced-evaluator.js';
import type { EvalRequest, EvalResult } from './types.js';
import { cedarWasm, type EntityJson } from './wasm.js';

let generation = 0;

/**
 * The reference: plain Cedar over the whole pre-parsed policy set with every entity and the
 * whole context. Used by `policy explain`, the differential test and the benchmark baseline,
 * never on the request path.
 */
export class PlainEvaluator {
  readonly #id = `gatehouse-plain-${generation++}`;
  readonly #order = new Map<string, number>();
  readonly #record: Record<string, string>;

  constructor(readonly policies: readonly CompiledPolicy[]) {
    for (const p of policies) this.#order.set(p.id, p.index);
    this.#record = policyRecord(policies);
    const answer = cedarWasm.preparsePolicySet(this.#id, { staticPolicies: this.#record });
    if (answer.type !== 'success') throw new Error(`cedar: ${answer.errors.map((e) => e.message).join('; ')}`);
  }

  readonly orderOf = (id: string): number => this.#order.get(id) ?? Number.MAX_SAFE_INTEGER;

  evaluate(request: EvalRequest): EvalResult {
    const answer = cedarWasm.statefulIsAuthorized({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context: request.context.all(),
      preparsedPolicySetId: this.#id,
      entities: request.entities as EntityJson[],
      validateRequest: false,
    });
    return toResult(answer, this.orderOf);
  }

  evaluatePartial(request: EvalRequest): 'allow' | 'deny' | 'unknown' {
    const answer = cedarWasm.isAuthorizedPartial({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context: request.context.all(),
      policies: { staticPolicies: this.#record },
      entities: request.entities as EntityJson[],
    });
    return toPartialDecision(answer);
  }
}
