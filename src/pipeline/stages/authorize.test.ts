import { describe, expect, it } from 'vitest';
import { fakeCall, fakeNext } from '../../../test/helpers/call-context.js';
import { PolicyDeniedError } from '../../errors/index.js';
import type { Authorizer, AuthzRequest, Decision } from '../../policy/types.js';
import { authorizeStage } from './authorize.js';

function deciding(decision: Decision, readsApprovalState = false): Authorizer & { asked: AuthzRequest[] } {
  const asked: AuthzRequest[] = [];
  return {
    asked,
    readsApprovalState,
    decide(request) {
      asked.push(request);
      return decision;
    },
  };
}

describe('authorize stage', () => {
  it('asks with identity from the token and the operation from the catalog, records the decision, and goes on when allowed', async () => {
    const pdp = deciding({ effect: 'allow', policy: 'eng-may-add' });
    const call = fakeCall();
    const next = fakeNext();
    await authorizeStage(() => pdp).run(call, next);
    expect(next.calls).toBe(1);
    expect(call.decision).toEqual({ effect: 'allow', policy: 'eng-may-add' });
    expect(pdp.asked).toMatchObject([
      { principal: { sub: 'alice', groups: ['eng'] }, action: 'call', server: 'echo', kind: 'tool', id: 'echo__add', args: { a: 1, b: 2 } },
    ]);
    expect(pdp.asked[0]?.facts).toMatchObject({ method: 'tools/call', ip: '192.0.2.7', clientName: 'test-client', approval: undefined });
  });

  it('refuses a denied call with the policy’s reason and message, and runs nothing after', async () => {
    const call = fakeCall();
    const next = fakeNext();
    const error = await authorizeStage(() => deciding({ effect: 'deny', reason: 'not_allowed', message: 'No.', policy: 'default-deny' }))
      .run(call, next)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect(error).toMatchObject({ code: 'policy.denied', reason: 'not_allowed', message: 'No.', data: { policy: 'default-deny' } });
    expect(call.decision).toMatchObject({ effect: 'deny' });
    expect(next.calls).toBe(0);
  });

  it('refuses a call that needs approval when no approve stage follows', async () => {
    const next = fakeNext();
    const pdp = deciding({ effect: 'require_approval', reason: 'destructive', level: 'four-eyes', policy: 'p' });
    await expect(authorizeStage(() => pdp).run(fakeCall(), next)).rejects.toMatchObject({ reason: 'approval_required' });
    expect(next.calls).toBe(0);
    const withApprovals = fakeNext();
    const approvals = { peek: async () => ({ status: 'none' }) as never };
    await authorizeStage(() => pdp, { approvals }).run(fakeCall(), withApprovals);
    expect(withApprovals.calls).toBe(1);
  });

  it('looks up the approval state only for policies that read it', async () => {
    const peeked: string[] = [];
    const approvals = {
      peek: async (sub: string, target: string) => {
        peeked.push(`${sub} ${target}`);
        return { status: 'approved' } as never;
      },
    };
    const reading = deciding({ effect: 'allow' }, true);
    await authorizeStage(() => reading, { approvals }).run(fakeCall(), fakeNext());
    expect(peeked).toEqual(['alice echo__add']);
    expect(reading.asked[0]?.facts?.approval).toEqual({ status: 'approved' });
    await authorizeStage(() => deciding({ effect: 'allow' }), { approvals }).run(fakeCall(), fakeNext());
    expect(peeked).toHaveLength(1);
  });

  it('uses the policies in force at the time of the call', async () => {
    let current = deciding({ effect: 'allow' });
    const stage = authorizeStage(() => current);
    await stage.run(fakeCall(), fakeNext());
    current = deciding({ effect: 'deny', reason: 'not_allowed', message: 'reloaded' });
    await expect(stage.run(fakeCall(), fakeNext())).rejects.toThrow('reloaded');
  });
});
