import type { CedarValueJson, Expr, PolicyJson } from './wasm.js';
import { entityKey, type EntityRef } from './types.js';

/**
 * What a policy can read, found by walking its JSON form. Cedar reads entity and record
 * attributes only by literal name (`.attr`, `has attr`), and reaches entities only through
 * principal/action/resource, literals, and values stored in context or attributes. So these
 * facts bound exactly which parts of a request can influence the policy: the sliced evaluator
 * sends Cedar nothing else.
 */
export interface PolicyFacts {
  /** Every attribute name read anywhere (`.name`, `has name`). */
  attrNames: Set<string>;
  /** Top-level context keys read, or 'all' when `context` is used as a whole value. */
  contextKeys: Set<string> | 'all';
  /** Keys (`Type::"id"`) of entity literals, in the scope and in conditions. */
  entityLiterals: Set<string>;
  /**
   * Context keys whose value is used as a whole (compared, put in a set, …), not only read
   * through `.attr` / `has attr`. List visibility needs this: see SlicedEvaluator.visibility.
   */
  wholeContextKeys: Set<string>;
}

export function emptyFacts(): PolicyFacts {
  return { attrNames: new Set(), contextKeys: new Set(), entityLiterals: new Set(), wholeContextKeys: new Set() };
}

/** Merges `from` into `into` (used to build a slice's facts from its policies'). */
export function mergeFacts(into: PolicyFacts, from: PolicyFacts): void {
  for (const name of from.attrNames) into.attrNames.add(name);
  if (into.contextKeys !== 'all') {
    if (from.contextKeys === 'all') into.contextKeys = 'all';
    else for (const key of from.contextKeys) into.contextKeys.add(key);
  }
  for (const key of from.entityLiterals) into.entityLiterals.add(key);
  for (const key of from.wholeContextKeys) into.wholeContextKeys.add(key);
}

/** Facts of the whole policy; with `conditionsOnly`, of its when/unless clauses alone (scope left out). */
export function policyFacts(policy: PolicyJson, conditionsOnly = false): PolicyFacts {
  const facts = emptyFacts();
  if (conditionsOnly) {
    for (const clause of policy.conditions) walk(clause.body, facts);
    return facts;
  }
  const scopeEntity = (c: { entity?: EntityRefJson; entities?: EntityRefJson[]; in?: { entity?: EntityRefJson } }) => {
    if (c.entity) facts.entityLiterals.add(refKey(c.entity));
    for (const e of c.entities ?? []) facts.entityLiterals.add(refKey(e));
    if (c.in?.entity) facts.entityLiterals.add(refKey(c.in.entity));
  };
  scopeEntity(policy.principal as never);
  scopeEntity(policy.action as never);
  scopeEntity(policy.resource as never);
  for (const clause of policy.conditions) walk(clause.body, facts);
  return facts;
}

type EntityRefJson = { __entity: EntityRef } | EntityRef;

function refKey(ref: EntityRefJson): string {
  return entityKey('__entity' in ref ? ref.__entity : ref);
}

function isContextVar(expr: Expr): boolean {
  return (expr as { Var?: unknown }).Var === 'context';
}

const BINARY = new Set(['==', '!=', 'in', '<', '<=', '>', '>=', '&&', '||', '+', '-', '*', 'contains', 'containsAll', 'containsAny', 'getTag', 'hasTag']);

/** `asBase`: this expression is the left operand of `.` or `has` (its value is only read through). */
function walk(expr: Expr, facts: PolicyFacts, asBase = false): void {
  const keys = Object.keys(expr);
  if (keys.length !== 1) throw new Error(`unexpected Cedar expression node with keys ${keys.join(',')}`);
  const op = keys[0] as string;
  const arg = (expr as Record<string, unknown>)[op] as never;
  switch (op) {
    case 'Value':
      collectEntityValues(arg, facts.entityLiterals);
      return;
    case 'Var':
      if (arg === 'context') facts.contextKeys = 'all';
      return;
    case 'Slot':
      return;
    case '!':
    case 'neg':
    case 'isEmpty':
      walk((arg as { arg: Expr }).arg, facts);
      return;
    case '.': {
      const { left, attr } = arg as { left: Expr; attr: string };
      facts.attrNames.add(attr);
      if (isContextVar(left)) {
        addContextKey(facts, attr);
        if (!asBase) facts.wholeContextKeys.add(attr);
      } else walk(left, facts, true);
      return;
    }
    case 'has': {
      const { left, attr } = arg as { left: Expr; attr: string | string[] };
      const path = Array.isArray(attr) ? attr : [attr];
      for (const name of path) facts.attrNames.add(name);
      if (isContextVar(left)) addContextKey(facts, path[0] as string);
      else walk(left, facts, true);
      return;
    }
    case 'like':
      walk((arg as { left: Expr }).left, facts);
      return;
    case 'is': {
      const { left, in: inExpr } = arg as { left: Expr; in?: Expr };
      walk(left, facts);
      if (inExpr) walk(inExpr, facts);
      return;
    }
    case 'if-then-else': {
      const branches = arg as { if: Expr; then: Expr; else: Expr };
      walk(branches.if, facts);
      walk(branches.then, facts);
      walk(branches.else, facts);
      return;
    }
    case 'Set':
      for (const item of arg as Expr[]) walk(item, facts);
      return;
    case 'Record':
      for (const item of Object.values(arg as Record<string, Expr>)) walk(item, facts);
      return;
    default:
      if (BINARY.has(op)) {
        const { left, right } = arg as { left: Expr; right: Expr };
        walk(left, facts);
        walk(right, facts);
        return;
      }
      // Extension function call (`ip(…)`, `.isInRange(…)`, `decimal(…)`, `datetime(…)`, …).
      if (Array.isArray(arg)) {
        for (const item of arg as Expr[]) walk(item, facts);
        return;
      }
      throw new Error(`unexpected Cedar expression operator "${op}"`);
  }
}

function addContextKey(facts: PolicyFacts, key: string): void {
  if (facts.contextKeys !== 'all') facts.contextKeys.add(key);
}

/** Adds the key of every entity reference inside a Cedar JSON value. */
export function collectEntityValues(value: CedarValueJson | unknown, into: Set<string>): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collectEntityValues(item, into);
    return;
  }
  const entity = (value as { __entity?: EntityRef }).__entity;
  if (entity && typeof entity === 'object') {
    into.add(entityKey(entity));
    return;
  }
  if ((value as { __extn?: unknown }).__extn !== undefined) return;
  for (const item of Object.values(value)) collectEntityValues(item, into);
}
