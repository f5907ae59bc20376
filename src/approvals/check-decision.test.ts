import { describe, expect, it } from 'vitest';
import { hashArguments } from '../audit/index.js';
import type { ApprovalRecord } from '../storage/index.js';
import { checkDecision } from './check-decision.js';
import { ApprovalActionError, type ApprovalSettings } from './types.js';

const settings: ApprovalSettings = {
  ttlMs: 60_000,
  waitMs: 1000,
  progressIntervalMs: 1000,
  approvers: { db: { users: ['carol'], groups: ['dba'] } },
  breakGlass: { users: ['alice'], groups: [], minReasonLength: 10 },
  publicUrl: 'http://x',
  dangerouslyAllowFormConfirm: false,
};
const record = (over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  id: 'apr_1',
  status: 'pending',
  level: 'four-eyes',
  requester: { sub: 'alice', groups: ['eng'] },
  server: 'db',
  target: 'db__drop',
  method: 'tools/call',
  args: { o: [] },
  argsFormat: 'exact-v1',
  argsMasked: false,
  argsHash: hashArguments({}),
  createdAt: 0,
  expiresAt: 10_000,
  breakGlass: false,
  anyClient: false,
  ...over,
});
const reason = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApprovalActionError) return error.reason;
    throw error;
  }
  return 'allowed';
};
const as = (sub: string, groups: string[] = []) => ({ sub, groups, via: 'cli' as const });

describe('checkDecision', () => {
  it('four-eyes: another person with the role (by name or group) approves; the requester and strangers cannot', () => {
    expect(reason(() => checkDecision(record(), as('carol'), { decision: 'approve' }, settings, 1))).toBe('allowed');
    expect(reason(() => checkDecision(record(), as('dan', ['dba']), { decision: 'approve' }, settings, 1))).toBe('allowed');
    expect(reason(() => checkDecision(record(), as('alice', ['dba']), { decision: 'approve' }, settings, 1))).toBe('self_approval');
    expect(reason(() => checkDecision(record(), as('eve', ['eng']), { decision: 'approve' }, settings, 1))).toBe('not_an_approver');
    expect(reason(() => checkDecision(record({ server: 'other' }), as('carol'), { decision: 'approve' }, settings, 1))).toBe('not_an_approver');
  });

  it('confirm: the requester confirms; deny: an approver, or the requester withdrawing', () => {
    expect(reason(() => checkDecision(record({ level: 'confirm' }), as('alice'), { decision: 'approve' }, settings, 1))).toBe('allowed');
    expect(reason(() => checkDecision(record(), as('alice'), { decision: 'deny' }, settings, 1))).toBe('allowed');
    expect(reason(() => checkDecision(record(), as('eve'), { decision: 'deny' }, settings, 1))).toBe('not_an_approver');
  });

  it('only pending, unexpired requests; break-glass only for the requester with the role and a reason', () => {
    expect(reason(() => checkDecision(record(), as('carol'), { decision: 'approve' }, settings, 10_000))).toBe('approval_expired');
    expect(reason(() => checkDecision(record({ status: 'used' }), as('carol'), { decision: 'approve' }, settings, 1))).toBe('approval_not_pending');
    expect(reason(() => checkDecision(record(), as('alice'), { decision: 'approve', breakGlass: true, note: 'too short' }, settings, 1))).toBe(
      'break_glass_reason_required',
    );
    expect(reason(() => checkDecision(record(), as('alice'), { decision: 'approve', breakGlass: true, note: 'database is on fire' }, settings, 1))).toBe(
      'allowed',
    );
    expect(
      reason(() =>
        checkDecision(record({ level: 'confirm' }), as('alice'), { decision: 'approve', breakGlass: true, note: 'database is on fire' }, settings, 1),
      ),
    ).toBe('break_glass_not_allowed');
    expect(
      reason(() =>
        checkDecision(
          record({ requester: { sub: 'bob', groups: [] } }),
          as('bob'),
          { decision: 'approve', breakGlass: true, note: 'database is on fire' },
          settings,
          1,
        ),
      ),
    ).toBe('break_glass_not_allowed');
  });

  it('approving hidden arguments needs an explicit acknowledgement; a mismatch with the hash is never approved; denying needs neither', () => {
    const masked = record({ args: { o: [['dsn', { m: [{ r: 'vault' }] }]] }, argsMasked: true });
    expect(reason(() => checkDecision(masked, as('carol'), { decision: 'approve' }, settings, 1))).toBe('hidden_arguments_not_acknowledged');
    expect(reason(() => checkDecision(masked, as('carol'), { decision: 'approve', acknowledgeHidden: false }, settings, 1))).toBe(
      'hidden_arguments_not_acknowledged',
    );
    expect(reason(() => checkDecision(masked, as('carol'), { decision: 'approve', acknowledgeHidden: true }, settings, 1))).toBe('allowed');
    expect(reason(() => checkDecision(masked, as('alice'), { decision: 'approve', breakGlass: true, note: 'database is on fire' }, settings, 1))).toBe(
      'hidden_arguments_not_acknowledged',
    );
    expect(reason(() => checkDecision(masked, as('carol'), { decision: 'deny' }, settings, 1))).toBe('allowed');
    const legacy = record({ argsFormat: 'redacted', args: { password: '[REDACTED]' } });
    expect(reason(() => checkDecision(legacy, as('carol'), { decision: 'approve' }, settings, 1))).toBe('hidden_arguments_not_acknowledged');
    expect(reason(() => checkDecision(legacy, as('carol'), { decision: 'approve', acknowledgeHidden: true }, settings, 1))).toBe('allowed');
    const tampered = record({ args: { o: [['table', 'users']] } });
    expect(reason(() => checkDecision(tampered, as('carol'), { decision: 'approve', acknowledgeHidden: true }, settings, 1))).toBe('arguments_mismatch');
    expect(reason(() => checkDecision(tampered, as('carol'), { decision: 'deny' }, settings, 1))).toBe('allowed');
    // Who may not decide at all is told that first.
    expect(reason(() => checkDecision(masked, as('eve'), { decision: 'approve' }, settings, 1))).toBe('not_an_approver');
    expect(reason(() => checkDecision(masked, as('alice'), { decision: 'approve' }, settings, 1))).toBe('self_approval');
  });
});
