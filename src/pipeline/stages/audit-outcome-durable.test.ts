import { describe, expect, it } from 'vitest';
import { fakeCall, fakeNext } from '../../../test/helpers/call-context.js';
import type { AuditLog } from '../../audit/index.js';
import { RefusedError } from '../../errors/index.js';
import { auditOutcomeStage } from './audit-outcome.js';

/** An audit log whose commits the test releases by hand. */
function slowAudit(durableOutcomes: boolean, fail = false) {
  const appended: { kind: string; durable: boolean | undefined }[] = [];
  const release: (() => void)[] = [];
  const audit = {
    durableOutcomes,
    append(kind: string, _body: unknown, opts: { durable?: boolean }) {
      appended.push({ kind, durable: opts.durable });
      return new Promise((resolve, reject) => release.push(() => (fail ? reject(new Error('store down')) : resolve({ seq: appended.length }))));
    },
  };
  return {
    audit: audit as unknown as AuditLog,
    appended,
    release: () => {
      for (const r of release.splice(0)) r();
    },
  };
}

const settledWithin = async (p: Promise<unknown>, ms: number) =>
  Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise((r) => setTimeout(() => r(false), ms)),
  ]);

describe('audit-outcome stage with durable outcomes (clusters)', () => {
  it('answers only after the outcome record is committed', async () => {
    const { audit, appended, release } = slowAudit(true);
    const answer = auditOutcomeStage(audit).run(fakeCall(), fakeNext());
    expect(await settledWithin(answer, 50)).toBe(false);
    expect(appended).toEqual([{ kind: 'call.result', durable: true }]);
    release();
    await expect(answer).resolves.toBeDefined();
  });

  it('does not answer a call whose outcome cannot be recorded as a success', async () => {
    const { audit, release } = slowAudit(true, true);
    const answer = auditOutcomeStage(audit).run(fakeCall(), fakeNext());
    setTimeout(release, 10);
    setTimeout(release, 30);
    // Not "store unavailable, retry": the tool ran, so the error says so (and keeps the cause).
    const error = await answer.then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; cause?: Error },
    );
    expect(error).toMatchObject({ code: 'audit.outcome_unrecorded', status: 500 });
    expect(error?.message).toMatch(/may have acted/);
    expect(error?.cause?.message).toBe('store down');
  });

  it('a refusal is answered after its record too, and stays the refusal', async () => {
    const { audit, appended, release } = slowAudit(true);
    const refusal = new RefusedError('policy.denied', 'no', 'denied', 403, -32003);
    const answer = auditOutcomeStage(audit).run(fakeCall(), async () => {
      throw refusal;
    });
    expect(await settledWithin(answer, 50)).toBe(false);
    expect(appended).toEqual([{ kind: 'call.denied', durable: true }]);
    release();
    await expect(answer).rejects.toBe(refusal);
  });

  it('one node (durableOutcomes off): answers at once, the record rides with the next batch', async () => {
    const { audit, appended } = slowAudit(false);
    await expect(auditOutcomeStage(audit).run(fakeCall(), fakeNext())).resolves.toBeDefined();
    expect(appended).toEqual([{ kind: 'call.result', durable: false }]);
  });
});
