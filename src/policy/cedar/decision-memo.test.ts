import { describe, expect, it } from 'vitest';
import { CedarDecisionMemo, DECISION_MEMO_MAX_KEY, type SliceCall } from './decision-memo.js';
import { parsePolicies, type LoadProblem } from './policy-set.js';
import { SlicedEvaluator } from './sliced-evaluator.js';
import { recordContext, type EvalRequest, type EvalResult } from './types.js';
import type { CedarValueJson } from './wasm.js';

const call = (context: Record<string, CedarValueJson>): SliceCall => ({
  principal: { type: 'User', id: 'alice' },
  action: { type: 'Action', id: 'call' },
  resource: { type: 'Tool', id: 's__t' },
  context,
  entities: [],
});

/** An evaluate function that counts its calls and answers from the context's `hour`. */
function counting() {
  const calls: { slot: string; call: SliceCall }[] = [];
  const evaluate = (slot: string, c: SliceCall): EvalResult => {
    calls.push({ slot, call: c });
    const allowed = typeof c.context.hour === 'number' && c.context.hour >= 9;
    return { decision: allowed ? 'allow' : 'deny', reasons: allowed ? ['p'] : [], errors: [] };
  };
  return { calls, evaluate };
}

describe('CedarDecisionMemo', () => {
  it('asks Cedar once for the same slice and input, and returns an equal, separate answer after that', () => {
    const { calls, evaluate } = counting();
    const memo = new CedarDecisionMemo(evaluate);
    const first = memo.decide('0,1,', 'slot-a', call({ hour: 10 }));
    first.reasons.push('tampered');
    first.errors.push({ policy: 'x', message: 'y' });
    const second = memo.decide('0,1,', 'slot-a', call({ hour: 10 }));
    expect(second).toEqual({ decision: 'allow', reasons: ['p'], errors: [] });
    expect(second).not.toBe(first);
    second.reasons.length = 0;
    expect(memo.decide('0,1,', 'slot-a', call({ hour: 10 }))).toEqual({ decision: 'allow', reasons: ['p'], errors: [] });
    expect(calls).toHaveLength(1);
  });

  it('asks Cedar again for any difference in the input, however small, and keeps each answer apart', () => {
    const { calls, evaluate } = counting();
    const memo = new CedarDecisionMemo(evaluate);
    for (let round = 0; round < 3; round++) {
      expect(memo.decide('k', 's', call({ hour: 8 })).decision).toBe('deny');
      expect(memo.decide('k', 's', call({ hour: 9 })).decision).toBe('allow');
      // A string "9" is not the number 9: JSON keeps them apart, as Cedar does.
      expect(memo.decide('k', 's', call({ hour: '9' })).decision).toBe('deny');
    }
    expect(calls.map((c) => c.call.context.hour)).toEqual([8, 9, '9']);
    const other = { ...call({ hour: 9 }), principal: { type: 'User', id: 'bob' } };
    memo.decide('k', 's', other);
    expect(calls).toHaveLength(4);
  });

  it('keys by the slice, not by the wasm cache slot (slots are reused for other slices)', () => {
    const { calls, evaluate } = counting();
    const memo = new CedarDecisionMemo(evaluate);
    memo.decide('0,', 'slot-1', call({ hour: 10 }));
    // Same slot id now holding another slice: must not be answered from the first slice's entry.
    memo.decide('1,', 'slot-1', call({ hour: 10 }));
    // Same slice re-parsed into another slot: the remembered answer still applies.
    memo.decide('0,', 'slot-2', call({ hour: 10 }));
    expect(calls.map((c) => c.slot)).toEqual(['slot-1', 'slot-1']);
  });

  it('stays bounded: past its capacity the oldest answer is forgotten and asked for again', () => {
    const { calls, evaluate } = counting();
    const memo = new CedarDecisionMemo(evaluate, 3);
    for (const hour of [1, 2, 3, 4]) memo.decide('k', 's', call({ hour }));
    expect(memo.size).toBe(3);
    memo.decide('k', 's', call({ hour: 4 }));
    expect(calls).toHaveLength(4);
    memo.decide('k', 's', call({ hour: 1 }));
    expect(calls).toHaveLength(5);
    expect(memo.size).toBe(3);
  });

  it('does not remember inputs past its key size, so large arguments cannot fill memory', () => {
    const { calls, evaluate } = counting();
    const memo = new CedarDecisionMemo(evaluate);
    const big = call({ hour: 10, text: 'x'.repeat(DECISION_MEMO_MAX_KEY) });
    expect(memo.decide('k', 's', big).decision).toBe('allow');
    expect(memo.decide('k', 's', big).decision).toBe('allow');
    expect(calls).toHaveLength(2);
    expect(memo.size).toBe(0);
  });

  it('does not remember a failed evaluation', () => {
    let fail = true;
    let asked = 0;
    const memo = new CedarDecisionMemo(() => {
      asked++;
      if (fail) throw new Error('cedar: authorization failed');
      return { decision: 'allow', reasons: ['p'], errors: [] };
    });
    expect(() => memo.decide('k', 's', call({}))).toThrow('authorization failed');
    fail = false;
    expect(memo.decide('k', 's', call({})).decision).toBe('allow');
    expect(asked).toBe(2);
    expect(memo.size).toBe(1);
  });
});

describe('SlicedEvaluator with remembered decisions', () => {
  const problems: LoadProblem[] = [];
  const { policies } = parsePolicies(
    [
      {
        name: 'p.cedar',
        text: [
          'permit(principal in Group::"eng", action == Action::"call", resource is Tool) when { context.hour >= 9 && context.hour < 18 };',
          'forbid(principal, action == Action::"call", resource is Tool) when { context has limit && context.limit > 100 };',
          'permit(principal, action == Action::"call", resource is Tool) when { resource.readOnly };',
        ].join('\n'),
      },
    ],
    problems,
  );
  const request = (context: Record<string, CedarValueJson>, groups = ['eng'], readOnly = false): EvalRequest => ({
    principal: { type: 'User', id: 'alice' },
    action: { type: 'Action', id: 'call' },
    resource: { type: 'Tool', id: 's__t' },
    entities: [
      { uid: { type: 'User', id: 'alice' }, attrs: {}, parents: groups.map((id) => ({ type: 'Group', id })) },
      { uid: { type: 'Tool', id: 's__t' }, attrs: { readOnly }, parents: [{ type: 'Server', id: 's' }] },
    ],
    context: recordContext(context),
  });

  it('answers alternating requests exactly as a fresh evaluator does, every time', () => {
    expect(problems).toEqual([]);
    const warm = new SlicedEvaluator(policies);
    const cases: [EvalRequest, EvalResult['decision']][] = [
      [request({ hour: 10 }), 'allow'],
      [request({ hour: 20 }), 'deny'],
      [request({ hour: 10, limit: 500 }), 'deny'],
      [request({ hour: 10, limit: 50 }), 'allow'],
      [request({ hour: 10 }, ['sales']), 'deny'],
      [request({ hour: 20 }, ['sales'], true), 'allow'],
      [request({ hour: 20, limit: 101 }, ['sales'], true), 'deny'],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [req, decision] of cases) {
        const got = warm.evaluate(req);
        expect(got.decision).toBe(decision);
        expect(got).toEqual(new SlicedEvaluator(policies).evaluate(req));
      }
    }
  });
});
