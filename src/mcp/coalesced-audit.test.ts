import { describe, expect, it } from 'vitest';
import type { AuditBody, AuditLog } from '../audit/index.js';
import { CoalescedAudit } from './coalesced-audit.js';

function fakeAudit() {
  const written: { kind: string; body: AuditBody }[] = [];
  const audit = { append: async (kind: string, body: AuditBody) => void written.push({ kind, body }) } as unknown as AuditLog;
  return { audit, written };
}

describe('CoalescedAudit', () => {
  it('writes one record per key and window, with the count and the time span', () => {
    let now = 1_000_000;
    const { audit, written } = fakeAudit();
    const c = new CoalescedAudit(audit, 5000, () => now);
    for (let i = 0; i < 20_000; i++) c.record({ kind: 'list', key: ['s1', 'alice', 'tools/list', 'ok'], body: { method: 'tools/list', requestId: `r${i}` } });
    c.record({ kind: 'call.denied', key: ['s1', 'alice', 'tools/list', 'rate.limited'], body: { method: 'tools/list' } });
    expect(written).toEqual([]);
    now += 5000;
    // The next event of an expired window closes it first.
    c.record({ kind: 'list', key: ['s1', 'alice', 'tools/list', 'ok'], body: { method: 'tools/list', requestId: 'late' } });
    expect(written).toEqual([
      {
        kind: 'list',
        body: {
          method: 'tools/list',
          requestId: 'r0',
          count: 20_000,
          window: { from: new Date(1_000_000).toISOString(), to: new Date(1_000_000).toISOString() },
        },
      },
    ]);
    c.close();
    expect(written.map((w) => [w.kind, w.body.count, w.body.requestId])).toEqual([
      ['list', 20_000, 'r0'],
      ['call.denied', 1, undefined],
      ['list', 1, 'late'],
    ]);
  });

  it('keeps sessions, users, methods and outcomes apart', () => {
    const { audit, written } = fakeAudit();
    const c = new CoalescedAudit(audit, 5000, () => 0);
    for (const key of [
      ['s1', 'a', 'tools/list', 'ok'],
      ['s2', 'a', 'tools/list', 'ok'],
      ['s1', 'b', 'tools/list', 'ok'],
      ['s1', 'a', 'prompts/list', 'ok'],
      ['s1', 'a', 'tools/list', 'rate.limited'],
      ['s1', 'a', 'tools/list', 'ok'],
    ]) {
      c.record({ kind: 'list', key, body: {} });
    }
    c.close();
    expect(written.map((w) => w.body.count)).toEqual([2, 1, 1, 1, 1]);
  });
});
