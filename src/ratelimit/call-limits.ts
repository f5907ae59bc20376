import type { LimitSpec } from '../config/index.js';
import { RateLimitedError } from '../errors/index.js';
import { describeDuration, UNIT_MS } from '../util/duration.js';
import type { RateLimitStore, WindowCounter } from './store.js';

export interface CallLimitsConfig {
  user: LimitSpec;
  tool: LimitSpec;
  client: LimitSpec;
  /** Per qualified tool: replaces `tool` for that tool. */
  tools: Readonly<Record<string, LimitSpec>>;
}

/** Who and what one call counts against. */
export interface CallKey {
  sub: string;
  clientId: string | undefined;
  /** Qualified target (`server__tool`, prompt id, resource URI). */
  target: string;
}

type Scope = 'user' | 'tool' | 'client';
type Kind = 'burst' | 'sustained' | 'daily';

interface Limit {
  scope: Scope;
  kind: Kind;
  points: number;
  windowMs: number;
  counter: WindowCounter;
}

const DAY_MS = UNIT_MS.d;

/**
 * Per-user, per-user-and-tool and per-client limits, each with a burst (short window), a
 * sustained (long window) rate and a daily quota. A call counts against every limit that
 * applies; if any is exhausted the call is refused with the longest wait among them, so a
 * retry after `retryAfterMs` is not refused by another limit straight away.
 */
export class CallLimits {
  readonly #limits = new Map<string, Limit[]>();

  constructor(
    private readonly config: CallLimitsConfig,
    private readonly store: RateLimitStore,
  ) {}

  #for(scope: Scope, spec: LimitSpec, name: string): Limit[] {
    let limits = this.#limits.get(name);
    if (!limits) {
      limits = [];
      const add = (kind: Kind, points: number, windowMs: number) =>
        limits?.push({ scope, kind, points, windowMs, counter: this.store.counter(`${name}.${kind}`, points, windowMs) });
      if (spec.burst) add('burst', spec.burst.points, spec.burst.windowMs);
      if (spec.sustained) add('sustained', spec.sustained.points, spec.sustained.windowMs);
      if (spec.daily) add('daily', spec.daily, DAY_MS);
      this.#limits.set(name, limits);
    }
    return limits;
  }

  #user(sub: string) {
    return this.#for('user', this.config.user, 'user').map((limit) => ({ limit, key: sub }));
  }

  #client(clientId: string | undefined) {
    // `undefined` (a CLI token) and a client literally named "-" must not share a counter.
    return this.#for('client', this.config.client, 'client').map((limit) => ({ limit, key: clientId === undefined ? '' : `c:${clientId}` }));
  }

  #target(sub: string, target: string) {
    const override = this.config.tools[target];
    return this.#for('tool', override ?? this.config.tool, override ? `tool:${target}` : 'tool').map((limit) => ({
      limit,
      key: JSON.stringify([sub, target]),
    }));
  }

  /**
   * Counts one request against the user's and the client's limits — any request, before
   * anything else is done for it (lists, reads, unknown methods and tools included).
   */
  takeRequest(key: Pick<CallKey, 'sub' | 'clientId'>): Promise<void> {
    return this.#check([...this.#user(key.sub), ...this.#client(key.clientId)], key.sub);
  }

  /** Counts one operation on `target` against the per-user-and-target limit. */
  takeTarget(key: Pick<CallKey, 'sub' | 'target'>): Promise<void> {
    return this.#check(this.#target(key.sub, key.target), key.target);
  }

  /** Counts the call against every limit; throws RateLimitedError when one is exhausted. */
  take(key: CallKey): Promise<void> {
    return this.#check([...this.#user(key.sub), ...this.#target(key.sub, key.target), ...this.#client(key.clientId)], key.target);
  }

  async #check(checks: { limit: Limit; key: string }[], target: string): Promise<void> {
    const results = await Promise.all(checks.map(async (c) => ({ ...c, result: await c.limit.counter.take(c.key) })));
    let worst: { limit: Limit; retryAfterMs: number } | undefined;
    for (const { limit, result } of results) {
      if (!result.ok && (!worst || result.retryAfterMs > worst.retryAfterMs)) worst = { limit, retryAfterMs: result.retryAfterMs };
    }
    if (!worst) return;
    const { limit, retryAfterMs } = worst;
    const whose = limit.scope === 'user' ? 'per user' : limit.scope === 'client' ? 'per client application' : `to "${target}" per user`;
    const what = limit.kind === 'daily' ? `${limit.points} calls a day` : `${limit.points} calls per ${describeDuration(limit.windowMs)}`;
    throw new RateLimitedError(`Rate limit exceeded: at most ${what} ${whose}. Retry after ${retryAfterMs} ms.`, retryAfterMs, `${limit.scope}.${limit.kind}`);
  }
}
