import { describe, expect, it } from 'vitest';
import { fakeAudit, fakeCall, fakeNext } from '../../../test/helpers/call-context.js';
import { AuditUnavailableError } from '../../errors/index.js';
import { auditIntentStage } from './audit-intent.js';

describe('audit-intent stage', () => {
  it('writes the durable intent record (who, what, arguments, decision) before the call runs', async () => {
    const { audit, records } = fakeAudit();
    const call = fakeCall();
    call.decision = { effect: 'allow', policy: 'eng-may-add' };
    let recordsWhenRun = -1;
    const next = fakeNext();
    await auditIntentStage(audit).run(call, async () => {
      recordsWhenRun = records.length;
      return next();
    });
    expect(recordsWhenRun).toBe(1);
    expect(records).toMatchObject([
      {
        kind: 'call.intent',
        durable: true,
        body: {
          requestId: 'req-1',
          actor: { sub: 'alice', groups: ['eng'], client: 'client-1', session: 'session-1', ip: '192.0.2.7', jti: 'jti-1' },
          method: 'tools/call',
          target: { server: 'echo', tool: 'echo__add' },
          args: { a: 1, b: 2 },
          decision: { effect: 'allow', policy: 'eng-may-add' },
        },
      },
    ]);
    expect(records[0]?.body.argsHash).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(call.intentSeq).toBe(1);
  });

  it('refuses the call when the record cannot be written (fail closed), and runs nothing', async () => {
    const { audit } = fakeAudit({ failWith: new Error('disk full') });
    const call = fakeCall();
    const next = fakeNext();
    const error = await auditIntentStage(audit)
      .run(call, next)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditUnavailableError);
    expect(error).toMatchObject({ code: 'audit.unavailable' });
    expect(next.calls).toBe(0);
    expect(call.intentSeq).toBeUndefined();
  });

  it('writes nothing for list requests', async () => {
    const { audit, records } = fakeAudit();
    const next = fakeNext();
    await auditIntentStage(audit).run(fakeCall({ op: { method: 'tools/list', action: 'list', kind: 'server', server: '*' } }), next);
    expect(next.calls).toBe(1);
    expect(records).toEqual([]);
  });
});
