import type { ConditionalAccessRule } from '../config/index.js';
import { NetworkSet } from './networks.js';

/** The combined requirements for one user: the strictest of every rule that applies to them. */
export interface AccessRequirements {
  mfa: boolean;
  /** Every listed set must contain the source address (one per rule naming networks). */
  networks: { group: string; set: NetworkSet }[];
  maxSessionAgeMs: number | undefined;
}

export type AccessRefusal = { code: 'identity.mfa_required' | 'identity.network_not_allowed' | 'identity.session_too_old'; message: string };

/**
 * Conditional access per group (`identity.conditionalAccess`), with `*` for everyone. A user
 * in several groups meets all of their rules: MFA if any rule wants it, the shortest session,
 * and a source address inside every rule's networks.
 */
export class ConditionalAccess {
  readonly #rules: Map<string, { mfa: boolean; networks: NetworkSet | undefined; maxSessionAgeMs: number | undefined }>;

  constructor(rules: Readonly<Record<string, ConditionalAccessRule>>) {
    this.#rules = new Map(
      Object.entries(rules).map(([group, rule]) => [
        group,
        { mfa: rule.mfa, networks: rule.networks ? new NetworkSet(rule.networks) : undefined, maxSessionAgeMs: rule.maxSessionAge },
      ]),
    );
  }

  get empty(): boolean {
    return this.#rules.size === 0;
  }

  requirements(groups: readonly string[]): AccessRequirements {
    const out: AccessRequirements = { mfa: false, networks: [], maxSessionAgeMs: undefined };
    for (const group of ['*', ...groups]) {
      const rule = this.#rules.get(group);
      if (!rule) continue;
      out.mfa ||= rule.mfa;
      if (rule.networks) out.networks.push({ group, set: rule.networks });
      if (rule.maxSessionAgeMs !== undefined) out.maxSessionAgeMs = Math.min(out.maxSessionAgeMs ?? Infinity, rule.maxSessionAgeMs);
    }
    return out;
  }

  /** The network part, for every request: a refusal, or undefined. */
  checkNetwork(groups: readonly string[], ip: string | undefined): AccessRefusal | undefined {
    if (this.#rules.size === 0) return undefined;
    for (const { group, set } of this.requirements(groups).networks) {
      if (!set.has(ip)) {
        return {
          code: 'identity.network_not_allowed',
          message: `Access for ${group === '*' ? 'all users' : `group "${group}"`} is allowed only from approved networks, and this request came from elsewhere.`,
        };
      }
    }
    return undefined;
  }

  /** Sign-in and token use: MFA done, network allowed, session not older than allowed. */
  check(groups: readonly string[], facts: { ip: string | undefined; mfa: boolean; authTime: number | undefined }, now = Date.now()): AccessRefusal | undefined {
    const network = this.checkNetwork(groups, facts.ip);
    if (network) return network;
    const req = this.requirements(groups);
    if (req.mfa && !facts.mfa) return { code: 'identity.mfa_required', message: 'Your groups require multi-factor authentication for this sign-in.' };
    if (req.maxSessionAgeMs !== undefined && facts.authTime !== undefined && now - facts.authTime > req.maxSessionAgeMs) {
      return { code: 'identity.session_too_old', message: 'Your sign-in is older than your groups allow. Sign in again.' };
    }
    return undefined;
  }
}

/** RFC 8176 values that count as a second factor. */
export function isMultiFactor(amr: readonly string[], mfaValues: readonly string[]): boolean {
  return amr.some((v) => mfaValues.includes(v));
}
