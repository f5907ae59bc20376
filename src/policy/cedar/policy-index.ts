import { actionAdmits, scopeAdmits, type CompiledPolicy } from './compiled-policy.js';

interface Bucket {
  /** Policies whose resource scope names an entity (`==` or `in`), by that entity. */
  byResource: Map<string, CompiledPolicy[]>;
  /** Else, policies whose principal scope names an entity, by that entity. */
  byPrincipal: Map<string, CompiledPolicy[]>;
  /** Everything else (`All`, `is`). */
  rest: CompiledPolicy[];
}

const newBucket = (): Bucket => ({ byResource: new Map(), byPrincipal: new Map(), rest: [] });

function push<K>(map: Map<K, CompiledPolicy[]>, key: K, policy: CompiledPolicy): void {
  const list = map.get(key);
  if (list) list.push(policy);
  else map.set(key, [policy]);
}

/** The facts about one side of a request that scope matching needs. */
export interface ScopeSubject {
  key: string;
  type: string;
  ancestors: ReadonlySet<string>;
}

/**
 * Policies indexed by action, then by the entity their resource (or else principal) scope
 * names. A request looks up only the buckets its action, resource, principal and their
 * ancestors can hit, then checks each candidate's full scope: the result is exactly the
 * policies whose scope admits the request, in policy-set order.
 */
export class PolicyIndex {
  readonly #byAction = new Map<string, Bucket>();
  readonly #anyAction = newBucket();

  constructor(policies: readonly CompiledPolicy[]) {
    for (const policy of policies) {
      if (policy.action.op === 'All') this.#add(this.#anyAction, policy);
      else
        for (const action of policy.action.keys) {
          let bucket = this.#byAction.get(action);
          if (!bucket) this.#byAction.set(action, (bucket = newBucket()));
          this.#add(bucket, policy);
        }
    }
  }

  #add(bucket: Bucket, policy: CompiledPolicy): void {
    const r = policy.resource;
    const p = policy.principal;
    if (r.op === '==' || r.op === 'in') push(bucket.byResource, r.key, policy);
    else if (p.op === '==' || p.op === 'in') push(bucket.byPrincipal, p.key, policy);
    else bucket.rest.push(policy);
  }

  /** The policies whose scope admits the request, ordered by policy-set position. */
  applicable(principal: ScopeSubject, actionKey: string, resource: ScopeSubject): CompiledPolicy[] {
    const out: CompiledPolicy[] = [];
    const bucket = this.#byAction.get(actionKey);
    if (bucket) this.#collect(bucket, principal, actionKey, resource, out);
    this.#collect(this.#anyAction, principal, actionKey, resource, out);
    if (out.length > 1) out.sort((a, b) => a.index - b.index);
    return out;
  }

  #collect(bucket: Bucket, principal: ScopeSubject, actionKey: string, resource: ScopeSubject, out: CompiledPolicy[]): void {
    const check = (list: CompiledPolicy[] | undefined) => {
      if (!list) return;
      for (const policy of list) {
        if (
          actionAdmits(policy.action, actionKey) &&
          scopeAdmits(policy.resource, resource.key, resource.type, resource.ancestors) &&
          scopeAdmits(policy.principal, principal.key, principal.type, principal.ancestors)
        ) {
          out.push(policy);
        }
      }
    };
    if (bucket.byResource.size > 0) {
      check(bucket.byResource.get(resource.key));
      for (const ancestor of resource.ancestors) check(bucket.byResource.get(ancestor));
    }
    if (bucket.byPrincipal.size > 0) {
      check(bucket.byPrincipal.get(principal.key));
      for (const ancestor of principal.ancestors) check(bucket.byPrincipal.get(ancestor));
    }
    check(bucket.rest);
  }
}
