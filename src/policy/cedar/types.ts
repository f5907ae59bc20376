import type { CedarValueJson } from './wasm.js';

/** An entity reference, `Type::"id"`. */
export interface EntityRef {
  readonly type: string;
  readonly id: string;
}

/** One entity of a request's entity store: attributes and direct parents. */
export interface CedarEntity {
  readonly uid: EntityRef;
  readonly attrs: Readonly<Record<string, CedarValueJson>>;
  readonly parents: readonly EntityRef[];
}

/**
 * The request context, asked for key by key: the sliced evaluator builds only the keys the
 * policies that apply can read (converting tool arguments is the expensive part).
 */
export interface ContextSource {
  get(key: string): CedarValueJson | undefined;
  /** Every key, for evaluators that need the whole record. */
  all(): Record<string, CedarValueJson>;
}

export interface EvalRequest {
  readonly principal: EntityRef;
  readonly action: EntityRef;
  readonly resource: EntityRef;
  /** Every entity the request knows (principal, its groups, the resource, its server, …). */
  readonly entities: readonly CedarEntity[];
  readonly context: ContextSource;
}

/** Cedar's answer, normalized: policy ids in policy-set order. */
export interface EvalResult {
  decision: 'allow' | 'deny';
  /** Determining policies: satisfied forbids on a deny, satisfied permits on an allow. */
  reasons: string[];
  /** Policies whose evaluation failed (Cedar ignores them). */
  errors: { policy: string; message: string }[];
}

export function entityKey(ref: EntityRef): string {
  return `${ref.type}::${JSON.stringify(ref.id)}`;
}

/** A plain object as a ContextSource. */
export function recordContext(record: Record<string, CedarValueJson>): ContextSource {
  return { get: (key) => record[key], all: () => record };
}
