import { collectEntityValues, emptyFacts, mergeFacts, type PolicyFacts } from './ast-facts.js';
import { toPartialDecision, toResult } from './answer.js';
import { CedarDecisionMemo } from './decision-memo.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { PolicyIndex, type ScopeSubject } from './policy-index.js';
import { slicePool } from './slice-cache.js';
import { entityKey, type CedarEntity, type EvalRequest, type EvalResult } from './types.js';
import { cedarWasm, type CedarValueJson, type EntityJson, type PolicyJson } from './wasm.js';

interface Slice {
  facts: PolicyFacts;
  policies: readonly CompiledPolicy[];
}

const MAX_SLICE_INFO = 8192;

/**
 * Evaluates a request against only the policies that can apply to it, with exactly Cedar's
 * result (decision, determining policies, errors) for the whole set — proven by the
 * differential property test beside this file.
 *
 * 1. Slice: the index returns the policies whose scope admits the request. Scopes are
 *    equality and ancestry checks, evaluated here on the request's entity hierarchy.
 * 2. Scope-only policies decide in JavaScript: without conditions a policy in the slice is
 *    satisfied, cannot error, and Cedar's rule is simple (any satisfied forbid denies, else any
 *    satisfied permit allows, else deny).
 * 3. Conditional policies go to Cedar as a pre-parsed slice, with the request pruned to what
 *    they can read: the context keys they name, the attributes they name, and only the
 *    entities they can reach (parents flattened to the reachable ancestors). Cedar's answer is
 *    merged with step 2's.
 */
export class SlicedEvaluator {
  readonly #index: PolicyIndex;
  readonly #order = new Map<string, number>();
  /** Slice key → pool slot (owned by the shared SlicePool). */
  readonly #slots = new Map<string, string>();
  readonly #slices = new Map<string, Slice>();
  readonly #decisions = new CedarDecisionMemo((slot, call) => {
    const answer = cedarWasm.statefulIsAuthorized({ ...call, preparsedPolicySetId: slot, validateRequest: false });
    return toResult(answer, this.orderOf);
  });

  constructor(readonly policies: readonly CompiledPolicy[]) {
    this.#index = new PolicyIndex(policies);
    for (const p of policies) this.#order.set(p.id, p.index);
  }

  readonly orderOf = (id: string): number => this.#order.get(id) ?? Number.MAX_SAFE_INTEGER;

  /** The policies whose scope admits the request (for explain and for list decisions). */
  applicable(request: EvalRequest, store = entityStore(request.entities)): CompiledPolicy[] {
    return this.#index.applicable(subject(request.principal, store), entityKey(request.action), subject(request.resource, store));
  }

  evaluate(request: EvalRequest): EvalResult {
    const store = entityStore(request.entities);
    const applicable = this.applicable(request, store);
    const forbids: string[] = [];
    const permits: string[] = [];
    let conditional: CompiledPolicy[] | undefined;
    for (const policy of applicable) {
      if (policy.conditional) (conditional ??= []).push(policy);
      else (policy.effect === 'forbid' ? forbids : permits).push(policy.id);
    }
    if (!conditional)
      return forbids.length > 0
        ? { decision: 'deny', reasons: forbids, errors: [] }
        : { decision: permits.length > 0 ? 'allow' : 'deny', reasons: permits, errors: [] };

    const key = sliceKey(conditional);
    const slice = this.#slice(key, conditional);
    const slot = slicePool.slot(this.#slots, key, () => unscopedRecord(conditional));
    const context = prunedContext(request, slice.facts);
    const cedar = this.#decisions.decide(key, slot, {
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context,
      entities: prunedEntities(store, request, slice.facts, context),
    });
    // Merge: Cedar lists satisfied forbids when it denies because of them, satisfied permits when it allows.
    const cedarForbids = cedar.decision === 'deny' ? cedar.reasons : [];
    const cedarPermits = cedar.decision === 'allow' ? cedar.reasons : [];
    if (forbids.length > 0 || cedarForbids.length > 0) return { decision: 'deny', reasons: this.#merge(forbids, cedarForbids), errors: cedar.errors };
    const allPermits = this.#merge(permits, cedarPermits);
    return { decision: allPermits.length > 0 ? 'allow' : 'deny', reasons: allPermits, errors: cedar.errors };
  }

  /**
   * List visibility: could the request be allowed for some value of the context keys that hold
   * Cedar's `unknown(…)` (the tool arguments, when deciding whether to list a tool)? Answers
   * 'allow' (whatever the value), 'deny' (whatever the value) or 'unknown' (depends on it).
   *
   * Fast path (no partial evaluation): when the policies that apply read the unknown keys only
   * through `.attr` / `has attr`, Cedar evaluates the slice with each unknown replaced by a
   * value every such read fails on (the integer 0). A policy whose outcome does not depend on
   * the unknown evaluates as it would for any value; one that reaches the unknown errors,
   * which here means "depends on it". Policies that use an unknown value whole go to Cedar's
   * partial evaluator instead.
   */
  evaluatePartial(request: EvalRequest): 'allow' | 'deny' | 'unknown' {
    const store = entityStore(request.entities);
    const applicable = this.applicable(request, store);
    if (applicable.length === 0) return 'deny';
    if (!applicable.some((p) => p.conditional)) return applicable.some((p) => p.effect === 'forbid') ? 'deny' : 'allow';
    const facts = emptyFacts();
    for (const p of applicable) if (p.conditional) mergeFacts(facts, p.conditionFacts);
    if (facts.contextKeys !== 'all') {
      const unknown = [...facts.contextKeys].filter((key) => isUnknown(request.context.get(key)));
      if (unknown.length === 0) return this.evaluate(request).decision;
      if (!unknown.some((key) => facts.wholeContextKeys.has(key))) return this.#visibility(request, new Set(unknown));
    }
    // Whole context: Cedar's partial evaluator answers a missing attribute with a residual
    // rather than an error when the record holds an unknown, so context is never pruned here.
    const context = request.context.all();
    const partialFacts = emptyFacts();
    for (const p of applicable) mergeFacts(partialFacts, p.facts);
    const answer = cedarWasm.isAuthorizedPartial({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context,
      policies: { staticPolicies: policyRecord(applicable) },
      entities: prunedEntities(store, request, partialFacts, context),
    });
    return toPartialDecision(answer);
  }

  #visibility(request: EvalRequest, unknown: ReadonlySet<string>): 'allow' | 'deny' | 'unknown' {
    const context = request.context;
    const poisoned: EvalRequest = {
      ...request,
      context: {
        get: (key) => (unknown.has(key) ? UNREADABLE : context.get(key)),
        all: () => ({ ...context.all(), ...Object.fromEntries([...unknown].map((k) => [k, UNREADABLE])) }),
      },
    };
    const result = this.evaluate(poisoned);
    const effectOf = (id: string) => this.policies[this.orderOf(id)]?.effect;
    const erroredForbid = result.errors.some((e) => effectOf(e.policy) === 'forbid');
    const erroredPermit = result.errors.some((e) => effectOf(e.policy) === 'permit');
    if (result.decision === 'deny' && result.reasons.length > 0) return 'deny'; // a forbid holds whatever the unknown is
    if (result.decision === 'allow') return erroredForbid ? 'unknown' : 'allow';
    return erroredPermit ? 'unknown' : 'deny';
  }

  #slice(key: string, policies: CompiledPolicy[]): Slice {
    let slice = this.#slices.get(key);
    if (!slice) {
      const facts = emptyFacts();
      for (const p of policies) mergeFacts(facts, p.conditionFacts);
      slice = { facts, policies };
      if (this.#slices.size >= MAX_SLICE_INFO) this.#slices.clear();
      this.#slices.set(key, slice);
    }
    return slice;
  }

  #merge(a: string[], b: string[]): string[] {
    if (b.length === 0) return a;
    if (a.length === 0) return b;
    return [...a, ...b].sort((x, y) => this.orderOf(x) - this.orderOf(y));
  }
}

/** Reading an attribute of it, or asking `has`, is an error in Cedar. */
const UNREADABLE: CedarValueJson = 0;

function isUnknown(value: CedarValueJson | undefined): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && (value as { __extn?: { fn?: unknown } }).__extn?.fn === 'unknown';
}

function sliceKey(policies: readonly CompiledPolicy[]): string {
  let key = '';
  for (const p of policies) key += `${p.index},`;
  return key;
}

function unscopedRecord(policies: readonly CompiledPolicy[]): Record<string, PolicyJson> {
  const record: Record<string, PolicyJson> = {};
  for (const p of policies) record[p.id] = p.unscoped;
  return record;
}

export function policyRecord(policies: readonly CompiledPolicy[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const p of policies) record[p.id] = p.text;
  return record;
}

export type EntityStore = Map<string, CedarEntity>;

export function entityStore(entities: readonly CedarEntity[]): EntityStore {
  const store: EntityStore = new Map();
  for (const e of entities) store.set(entityKey(e.uid), e);
  return store;
}

/** Transitive ancestors of `key` in the store (Cedar's `in` is over the transitive closure). */
export function ancestorsOf(store: EntityStore, key: string): Set<string> {
  const out = new Set<string>();
  const stack = [key];
  while (stack.length > 0) {
    const entity = store.get(stack.pop() as string);
    if (!entity) continue;
    for (const parent of entity.parents) {
      const parentKey = entityKey(parent);
      if (!out.has(parentKey)) {
        out.add(parentKey);
        stack.push(parentKey);
      }
    }
  }
  return out;
}

function subject(ref: { type: string; id: string }, store: EntityStore): ScopeSubject {
  const key = entityKey(ref);
  return { key, type: ref.type, ancestors: ancestorsOf(store, key) };
}

function prunedContext(request: EvalRequest, facts: PolicyFacts): Record<string, CedarValueJson> {
  if (facts.contextKeys === 'all') return request.context.all();
  const context: Record<string, CedarValueJson> = {};
  for (const key of facts.contextKeys) {
    const value = request.context.get(key);
    if (value !== undefined) context[key] = value;
  }
  return context;
}

function pickAttrs(attrs: Readonly<Record<string, CedarValueJson>>, names: ReadonlySet<string>): Record<string, CedarValueJson> | undefined {
  let out: Record<string, CedarValueJson> | undefined;
  for (const name in attrs) {
    if (names.has(name)) (out ??= {})[name] = attrs[name] as CedarValueJson;
  }
  return out;
}

/**
 * The entities the slice can observe: principal, resource, entity literals of the slice, and
 * entities referenced from the pruned context or from observed attributes — each with only
 * the attributes the slice names and its ancestors among those reachable entities. An entity
 * with neither is left out: Cedar treats a missing entity exactly like one with no attributes
 * and no parents.
 */
function prunedEntities(store: EntityStore, request: EvalRequest, facts: PolicyFacts, context: Record<string, CedarValueJson>): EntityJson[] {
  const reach = new Set<string>(facts.entityLiterals);
  reach.add(entityKey(request.principal));
  reach.add(entityKey(request.resource));
  collectEntityValues(context, reach);
  const attrs = new Map<string, Record<string, CedarValueJson>>();
  const seen = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const key of reach) {
      if (seen.has(key)) continue;
      seen.add(key);
      const entity = store.get(key);
      if (!entity) continue;
      const picked = pickAttrs(entity.attrs, facts.attrNames);
      if (picked) {
        attrs.set(key, picked);
        const before = reach.size;
        collectEntityValues(picked, reach);
        if (reach.size !== before) grew = true;
      }
    }
  }
  const out: EntityJson[] = [];
  for (const key of reach) {
    const entity = store.get(key);
    if (!entity) continue;
    const parents: { type: string; id: string }[] = [];
    if (entity.parents.length > 0) {
      for (const ancestor of ancestorsOf(store, key)) {
        if (reach.has(ancestor) && ancestor !== key) parents.push(refOf(store, ancestor));
      }
    }
    const own = attrs.get(key);
    if (!own && parents.length === 0) continue;
    out.push({ uid: entity.uid, attrs: own ?? {}, parents });
  }
  return out;
}

/** The reference for a key that is in `reach`: from the store, or parsed back. */
function refOf(store: EntityStore, key: string): { type: string; id: string } {
  const entity = store.get(key);
  if (entity) return entity.uid;
  // Keys are `Type::"id"`; a namespaced type contains `::` too, but never `::"`.
  const at = key.indexOf('::"');
  return { type: key.slice(0, at), id: JSON.parse(key.slice(at + 2)) as string };
}
