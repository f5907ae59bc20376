import type { ActionConstraint, PolicyJson, PrincipalConstraint, ResourceConstraint } from './wasm.js';
import { policyFacts, type PolicyFacts } from './ast-facts.js';
import { entityKey, type EntityRef } from './types.js';

/** A principal or resource scope, reduced to what matching needs. */
export type EntityScope = { op: 'All' } | { op: '=='; key: string } | { op: 'in'; key: string } | { op: 'is'; type: string; inKey?: string | undefined };

export type ActionScope = { op: 'All' } | { op: 'in'; keys: readonly string[] };

/** One static policy, parsed once at load: its scope for slicing, its facts for pruning. */
export interface CompiledPolicy {
  readonly id: string;
  /** Position in the policy set (load order); results list policies in this order. */
  readonly index: number;
  readonly effect: 'permit' | 'forbid';
  /** Cedar source text of this policy alone (annotations included). */
  readonly text: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly principal: EntityScope;
  readonly action: ActionScope;
  readonly resource: EntityScope;
  /** Has `when`/`unless` clauses. Scope-only policies are decided without calling Cedar. */
  readonly conditional: boolean;
  readonly facts: PolicyFacts;
  /**
   * The policy with its scope widened to `principal, action, resource` (conditions, effect and
   * annotations kept), and the facts of its conditions alone. A slice is only ever evaluated
   * for requests its policies' scopes all admit — the index checked that — so Cedar need not
   * check the scope again, and needs no entity data for it.
   */
  readonly unscoped: PolicyJson;
  readonly conditionFacts: PolicyFacts;
  /** Where it came from, for messages: `file:line`. */
  readonly source: string;
}

type RefJson = { __entity: EntityRef } | EntityRef;
const key = (ref: RefJson) => entityKey('__entity' in ref ? ref.__entity : ref);

function entityScope(c: PrincipalConstraint | ResourceConstraint, where: string): EntityScope {
  switch (c.op) {
    case 'All':
      return { op: 'All' };
    case '==':
    case 'in':
      if ('slot' in c) throw new Error(`${where}: policy templates (?principal/?resource slots) are not supported`);
      return { op: c.op, key: key(c.entity as RefJson) };
    case 'is':
      if (c.in && 'slot' in c.in) throw new Error(`${where}: policy templates (?principal/?resource slots) are not supported`);
      return { op: 'is', type: c.entity_type, inKey: c.in ? key((c.in as { entity: RefJson }).entity) : undefined };
  }
}

function actionScope(c: ActionConstraint): ActionScope {
  if (c.op === 'All') return { op: 'All' };
  if (c.op === '==') return { op: 'in', keys: [key((c as { entity: RefJson }).entity)] };
  const inner = c as { entity?: RefJson; entities?: RefJson[] };
  const keys = inner.entities ? inner.entities.map(key) : [key(inner.entity as RefJson)];
  return { op: 'in', keys: [...new Set(keys)] };
}

export function compilePolicy(id: string, index: number, text: string, json: PolicyJson, source: string): CompiledPolicy {
  return {
    id,
    index,
    effect: json.effect,
    text,
    annotations: json.annotations ?? {},
    principal: entityScope(json.principal, source),
    action: actionScope(json.action),
    resource: entityScope(json.resource, source),
    conditional: json.conditions.length > 0,
    facts: policyFacts(json),
    unscoped: { ...json, principal: { op: 'All' }, action: { op: 'All' }, resource: { op: 'All' } },
    conditionFacts: policyFacts(json, true),
    source,
  };
}

/** Does `scope` admit the entity `uidKey` of type `type` with ancestors `ancestors`? */
export function scopeAdmits(scope: EntityScope, uidKey: string, type: string, ancestors: ReadonlySet<string>): boolean {
  switch (scope.op) {
    case 'All':
      return true;
    case '==':
      return scope.key === uidKey;
    case 'in':
      return scope.key === uidKey || ancestors.has(scope.key);
    case 'is':
      return scope.type === type && (scope.inKey === undefined || scope.inKey === uidKey || ancestors.has(scope.inKey));
  }
}

/** Actions have no hierarchy in Gatehouse's model (action groups are refused at load). */
export function actionAdmits(scope: ActionScope, actionKey: string): boolean {
  return scope.op === 'All' || scope.keys.includes(actionKey);
}
