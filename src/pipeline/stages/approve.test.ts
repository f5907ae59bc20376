import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalService, approvalSettings } from '../../approvals/index.js';
import { AuditLog } from '../../audit/index.js';
import { silentLogger } from '../../log/index.js';
import { SqliteStorage } from '../../storage/index.js';
import { KeyRing } from '../../tokens/index.js';
import { FakeConnector } from '../../../test/helpers/fake-connector.js';
import { Harness } from '../../../test/helpers/gateway-harness.js';
import { STARTER_POLICIES } from '../../../test/helpers/policy-fixtures.js';

/**
 * Four-eyes approval on the request path, in process. Decisions are made the way the CLI
 * makes them: from a second connection to the same database, which the waiting call only
 * sees by reading storage.
 */
describe('approve stage', () => {
  let h: Harness;
  let echo: FakeConnector;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0)) await fn();
    await h.close();
  });

  async function setup(approvals: Record<string, unknown> = {}) {
    echo = new FakeConnector('echo', [
      { name: 'add' },
      { name: 'delete_everything', annotations: { destructiveHint: true }, inputSchema: { type: 'object', properties: { scope: { type: 'string' } } } },
    ]);
    h = await Harness.create(
      { servers: { echo: { command: 'unused' } }, policies: STARTER_POLICIES, rateLimits: { enabled: false }, approvals: { approvers: { echo: { users: ['carol'] } }, wait: '3s', progressInterval: '200ms', ...approvals } },
      [echo],
    );
  }

  /** An approver acting through "another process": its own connection, its own audit log writer. */
  async function otherProcess(): Promise<ApprovalService> {
    const storage = SqliteStorage.open(h.assembly.config.dataDir);
    const audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), { checkpointEvery: 1000, checkpointIntervalMs: 60_000 });
    cleanups.push(async () => {
      await audit.close();
      await storage.close();
    });
    return new ApprovalService(storage.approvals, audit, silentLogger(), approvalSettings(h.assembly.config));
  }

  const pendingId = async () => {
    for (let i = 0; i < 200; i++) {
      const [record] = await h.assembly.storage.approvals.list({ status: ['pending'] });
      if (record) return record.id;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('no pending approval request appeared');
  };
  const audited = async (kind: string) => {
    await h.assembly.audit.flush();
    return (await h.assembly.storage.audit.query({ kinds: [kind], limit: 1000 })).map((r) => JSON.parse(r.body) as Record<string, any>);
  };

  it('holds a destructive call until a second person approves it, then runs it once — with progress while it waits', async () => {
    await setup();
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const call = h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: { scope: 'all', _gatehouse_reason: 'reset the demo' }, _meta: { progressToken: 'p1' } });
    const id = await pendingId();
    expect(echo.calls).toHaveLength(0);
    const approver = await otherProcess();
    await approver.decide(id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' });
    const res = await call;
    expect(res.response.result).toMatchObject({ content: [{ text: 'delete_everything:{"scope":"all"}' }] });
    expect(res.messages.some((m) => m.method === 'notifications/progress' && String((m.params as { message?: string }).message).includes(id))).toBe(true);
    expect(echo.calls).toHaveLength(1);
    const [requested] = await audited('approval.requested');
    expect(requested).toMatchObject({ actor: { sub: 'alice' }, target: { tool: 'echo__delete_everything' }, args: { scope: 'all' }, approval: { id, level: 'four-eyes', policy: 'eng-call-echo', reason: 'reset the demo' } });
    expect(await audited('approval.used')).toMatchObject([{ approval: { id, decidedBy: 'carol' } }]);
    const [intent] = await audited('call.intent');
    expect(intent).toMatchObject({ decision: { effect: 'require_approval', policy: 'eng-call-echo' } });
    const [result] = await audited('call.result');
    expect(result?.notes).toMatchObject({ approval: { id, approvedBy: 'carol', via: 'cli' }, agentReason: 'reset the demo' });
  });

  it('returns a pending result with the approval id when nobody decides in time; the retry after approval proceeds; a replay needs a new approval', async () => {
    await setup({ wait: '300ms' });
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const first = await h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: { scope: 'all' } });
    const result = first.response.result as { isError: boolean; content: { text: string }[]; _meta: Record<string, { id: string; status: string; url: string }> };
    expect(result.isError).toBe(true);
    const meta = result._meta['gatehouse/approval'] as { id: string; status: string; url: string };
    expect(meta).toMatchObject({ status: 'pending', url: `http://127.0.0.1:8787/console/approvals/${meta.id}` });
    expect(result.content[0]?.text).toContain(`Approval pending: calling "echo__delete_everything" needs approval by a second person. Request ${meta.id}`);
    expect(echo.calls).toHaveLength(0);

    await (await otherProcess()).decide(meta.id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' });
    const retry = await h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: { scope: 'all' } });
    expect(retry.response.result).toMatchObject({ content: [{ text: 'delete_everything:{"scope":"all"}' }] });
    expect(echo.calls).toHaveLength(1);

    // Replaying the same call: the approval is spent; a new request is filed, nothing runs.
    const replay = await h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: { scope: 'all' } });
    const replayMeta = (replay.response.result as { _meta: Record<string, { id: string }> })._meta['gatehouse/approval'];
    expect(replayMeta?.id).not.toBe(meta.id);
    expect(echo.calls).toHaveLength(1);
    expect(await audited('approval.refused')).toMatchObject([{ actor: { sub: 'alice' }, via: 'mcp', approval: { id: meta.id }, outcome: { code: 'approval_already_used' } }]);
  });

  it('binds the approval to the exact arguments: changed arguments need a new approval', async () => {
    await setup({ wait: '200ms' });
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const first = await h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: { scope: 'test' } });
    const id = ((first.response.result as { _meta: Record<string, { id: string }> })._meta['gatehouse/approval'] as { id: string }).id;
    await (await otherProcess()).decide(id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' });
    const changed = await h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: { scope: 'production' } });
    expect(changed.response.result).toMatchObject({ isError: true, _meta: { 'gatehouse/approval': { status: 'pending' } } });
    expect(echo.calls).toHaveLength(0);
    expect(await h.assembly.storage.approvals.get(id)).toMatchObject({ status: 'approved' }); // still unused, for the exact call only
  });

  it('lets exactly one of two racing calls use one approval', async () => {
    await setup({ wait: '200ms' });
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const sid2 = await h.open(alice);
    const first = await h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: {} });
    const id = ((first.response.result as { _meta: Record<string, { id: string }> })._meta['gatehouse/approval'] as { id: string }).id;
    await (await otherProcess()).decide(id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' });
    const [a, b] = await Promise.all([h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: {} }), h.rpc(alice, sid2, 'tools/call', { name: 'delete_everything', arguments: {} })]);
    const outcomes = [a.response, b.response];
    const ran = outcomes.filter((r) => r.result && !(r.result as { isError?: boolean }).isError);
    expect(ran).toHaveLength(1);
    // The loser either lost the use itself (approval_already_used) or arrived after it and
    // filed a new request (pending): either way it did not run.
    const loser = outcomes.find((r) => r !== ran[0]) as Record<string, any>;
    if (loser.error) expect(loser.error).toMatchObject({ code: -32003, data: { reason: 'approval_already_used', approvalId: id } });
    else expect(loser.result).toMatchObject({ isError: true, _meta: { 'gatehouse/approval': { status: 'pending' } } });
    expect(echo.calls).toHaveLength(1);
    expect(await h.assembly.storage.approvals.get(id)).toMatchObject({ status: 'used' });
  });

  it('refuses the call when the approver denies it', async () => {
    await setup();
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const call = h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: {} });
    const id = await pendingId();
    await (await otherProcess()).decide(id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'deny', note: 'not today' });
    expect((await call).response.error).toMatchObject({ code: -32003, message: `The call to "echo__delete_everything" was not approved (request ${id} was denied).`, data: { reason: 'approval_denied', approvalId: id } });
    expect(echo.calls).toHaveLength(0);
  });

  it('an expired approval does not count: the retry files a new request, and the CLI cannot approve the old one', async () => {
    await setup({ ttl: '1s', wait: '100ms' });
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const first = await h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: {} });
    const id = ((first.response.result as { _meta: Record<string, { id: string }> })._meta['gatehouse/approval'] as { id: string }).id;
    const approver = await otherProcess();
    await approver.decide(id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const late = await h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: {} });
    const lateId = ((late.response.result as { _meta: Record<string, { id: string }> })._meta['gatehouse/approval'] as { id: string }).id;
    expect(lateId).not.toBe(id);
    expect(echo.calls).toHaveLength(0);
    expect((await audited('approval.refused')).map((r) => r.outcome.code)).toEqual(['approval_expired']);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await expect(approver.decide(lateId, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' })).rejects.toMatchObject({ reason: 'approval_expired' });
  });

  it('without approvers configured, a destructive call can never run: it stays pending', async () => {
    await setup({ approvers: {}, wait: '100ms' });
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const res = await h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: {} });
    const id = ((res.response.result as { _meta: Record<string, { id: string }> })._meta['gatehouse/approval'] as { id: string }).id;
    await expect((await otherProcess()).decide(id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' })).rejects.toMatchObject({ reason: 'not_an_approver' });
    expect(echo.calls).toHaveLength(0);
  });
});
