import type { Classification } from './classification.js';
import type { OutputAction } from './config-schema.js';
import type { DetectorKind } from './detect/index.js';

export type ActionRules = Readonly<Record<string, Readonly<Record<string, OutputAction>>>>;

/** Strongest first: when several findings of one message disagree, the strongest decides the message. */
const STRENGTH: Readonly<Record<OutputAction, number>> = { deny: 4, drop: 3, hash: 2, mask: 1, allow: 0 };

export function stronger(a: OutputAction, b: OutputAction): OutputAction {
  return STRENGTH[a] >= STRENGTH[b] ? a : b;
}

/**
 * The action for a finding: by the data's classification (else `*`), then the finding's type
 * (else its family, else `*`), else `fallback`. A credential Gatehouse holds is never allowed
 * through, whatever the rules say (the config schema refuses such a rule; this is the
 * backstop for rules built in code).
 */
export class ActionTable {
  readonly #rules: ActionRules;
  readonly #fallback: OutputAction;
  readonly #cache = new Map<string, OutputAction>();

  constructor(rules: ActionRules = {}, fallback: OutputAction = 'mask') {
    const normalized: Record<string, Readonly<Record<string, OutputAction>>> = {};
    for (const [level, table] of Object.entries(rules)) normalized[level === 'sensitive' ? 'confidential' : level] = table;
    this.#rules = normalized;
    this.#fallback = fallback;
  }

  actionFor(classification: Classification, type: string, detector: DetectorKind): OutputAction {
    const key = `${classification}\u0000${type}\u0000${detector}`;
    let action = this.#cache.get(key);
    if (action !== undefined) return action;
    action = this.#lookup(this.#rules[classification], type, detector) ?? this.#lookup(this.#rules['*'], type, detector) ?? this.#fallback;
    if (action === 'allow' && detector === 'held') action = 'mask';
    if (this.#cache.size < 4096) this.#cache.set(key, action);
    return action;
  }

  #lookup(table: Readonly<Record<string, OutputAction>> | undefined, type: string, detector: DetectorKind): OutputAction | undefined {
    if (table === undefined) return undefined;
    return (
      (Object.hasOwn(table, type) ? table[type] : undefined) ??
      (Object.hasOwn(table, detector) ? table[detector] : undefined) ??
      (Object.hasOwn(table, '*') ? table['*'] : undefined)
    );
  }
}
