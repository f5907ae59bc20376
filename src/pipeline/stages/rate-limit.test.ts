import { describe, expect, it } from 'vitest';
import { fakeCall, fakeNext } from '../../../test/helpers/call-context.js';
import { RateLimitedError } from '../../errors/index.js';
import type { CallLimits } from '../../ratelimit/index.js';
import { rateLimitStage } from './rate-limit.js';

function limits(refuseAfter: number): CallLimits & { taken: string[] } {
  const taken: string[] = [];
  return {
    taken,
    async takeTarget({ sub, target }: { sub: string; target: string }) {
      taken.push(`${sub} ${target}`);
      if (taken.length > refuseAfter) throw new RateLimitedError('Too many calls to echo__add.', 1_000, 'tool');
    },
  } as unknown as CallLimits & { taken: string[] };
}

describe('rate-limit stage', () => {
  it('counts each call against its user and target, and refuses over the limit without running the call', async () => {
    const budget = limits(1);
    const stage = rateLimitStage(budget);
    const first = fakeNext();
    await stage.run(fakeCall(), first);
    expect(first.calls).toBe(1);
    const second = fakeNext();
    const error = await stage.run(fakeCall(), second).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ code: 'rate.limited', data: { retryAfterMs: 1_000 } });
    expect(second.calls).toBe(0);
    expect(budget.taken).toEqual(['alice echo__add', 'alice echo__add']);
  });

  it('does not count list requests (they have their own limit in the router)', async () => {
    const budget = limits(0);
    const next = fakeNext();
    await rateLimitStage(budget).run(fakeCall({ op: { method: 'tools/list', action: 'list', kind: 'server', server: '*' } }), next);
    expect(next.calls).toBe(1);
    expect(budget.taken).toEqual([]);
  });
});
