import type { EntityRef, EvalResult } from './types.js';
import type { CedarValueJson, EntityJson } from './wasm.js';

/** What goes to Cedar for one decision, besides the pre-parsed slice it is evaluated against. */
export interface SliceCall {
  principal: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  context: Record<string, CedarValueJson>;
  entities: EntityJson[];
}

/** Decisions remembered per evaluator: bounded, a few hundred bytes each. */
export const DECISION_MEMO_CAPACITY = 1024;
/**
 * Inputs longer than this (large tool arguments the policies read) are evaluated without being
 * remembered, so the memo stays under ~4 MB of keys whatever clients send.
 */
export const DECISION_MEMO_MAX_KEY = 4096;

/**
 * Remembers Cedar's answers for one policy set, keyed by the slice and the exact text Cedar
 * would read. The cedar-wasm binding hands its input to Rust as `JSON.stringify(call)`, and
 * Cedar's evaluation is a pure function of the policies and that input (no clock, no I/O, no
 * randomness), so two calls whose slice and text are equal get the same answer — the memo can
 * only return what Cedar returned for exactly this input. What crossing the boundary costs
 * (stringify, Rust's JSON parse into entities, the answer's serialise and `JSON.parse`) is
 * most of a sliced decision; a hit costs one `JSON.stringify` of the pruned request.
 *
 * Keyed by the slice key (the policies' positions in this set), not by the wasm cache slot:
 * slots are reused for other slices when the shared pool evicts. A failed evaluation (it
 * throws) is not remembered. Results are copied out, so a caller that changes one cannot
 * change a later answer.
 */
export class CedarDecisionMemo {
  readonly #answers = new Map<string, EvalResult>();

  constructor(
    private readonly evaluate: (slot: string, call: SliceCall) => EvalResult,
    readonly capacity = DECISION_MEMO_CAPACITY,
  ) {}

  decide(sliceKey: string, slot: string, call: SliceCall): EvalResult {
    const key = `${sliceKey}\n${JSON.stringify(call)}`;
    const hit = this.#answers.get(key);
    if (hit !== undefined) return copy(hit);
    const result = this.evaluate(slot, call);
    if (key.length > DECISION_MEMO_MAX_KEY) return result;
    if (this.#answers.size >= this.capacity) this.#answers.delete(this.#answers.keys().next().value as string);
    this.#answers.set(key, copy(result));
    return result;
  }

  get size(): number {
    return this.#answers.size;
  }
}

function copy(result: EvalResult): EvalResult {
  return { decision: result.decision, reasons: [...result.reasons], errors: result.errors.map((e) => ({ ...e })) };
}
