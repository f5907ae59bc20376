import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalService, approvalSettings, argumentsView, type ApprovalSettings } from '../../approvals/index.js';
import { AuditLog } from '../../audit/index.js';
import { silentLogger } from '../../log/index.js';
import { SqliteStorage, type ApprovalRecord } from '../../storage/index.js';
import type { CallContext, ClientChannel } from '../types.js';
import { approveStage } from './approve.js';
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
      {
        servers: { echo: { command: 'unused' } },
        policies: STARTER_POLICIES,
        rateLimits: { enabled: false },
        approvals: { approvers: { echo: { users: ['carol'] } }, wait: '3s', progressInterval: '200ms', ...approvals },
      },
      [echo],
    );
  }

  /** An approver acting through "another process": its own connection, its own audit log writer. */
  async function otherProcess(): Promise<ApprovalService> {
    const storage = SqliteStorage.open(h.assembly.config.dataDir);
    const audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
    });
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
    const call = h.rpc(alice, sid, 'tools/call', {
      name: 'delete_everything',
      arguments: { scope: 'all', _gatehouse_reason: 'reset the demo' },
      _meta: { progressToken: 'p1' },
    });
    const id = await pendingId();
    expect(echo.calls).toHaveLength(0);
    const approver = await otherProcess();
    await approver.decide(id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' });
    const res = await call;
    expect(res.response.result).toMatchObject({ content: [{ text: 'delete_everything:{"scope":"all"}' }] });
    expect(res.messages.some((m) => m.method === 'notifications/progress' && String((m.params as { message?: string }).message).includes(id))).toBe(true);
    expect(echo.calls).toHaveLength(1);
    const [requested] = await audited('approval.requested');
    expect(requested).toMatchObject({
      actor: { sub: 'alice' },
      target: { tool: 'echo__delete_everything' },
      args: { scope: 'all' },
      approval: { id, level: 'four-eyes', policy: 'eng-call-echo', reason: 'reset the demo' },
    });
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
    const result = first.response.result as {
      isError: boolean;
      content: { text: string }[];
      _meta: Record<string, { id: string; status: string; url: string }>;
    };
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
    expect(await audited('approval.refused')).toMatchObject([
      { actor: { sub: 'alice' }, via: 'mcp', approval: { id: meta.id }, outcome: { code: 'approval_already_used' } },
    ]);
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
    const [a, b] = await Promise.all([
      h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: {} }),
      h.rpc(alice, sid2, 'tools/call', { name: 'delete_everything', arguments: {} }),
    ]);
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
    expect((await call).response.error).toMatchObject({
      code: -32003,
      message: `The call to "echo__delete_everything" was not approved (request ${id} was denied).`,
      data: { reason: 'approval_denied', approvalId: id },
    });
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
    await expect(approver.decide(lateId, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' })).rejects.toMatchObject({
      reason: 'approval_expired',
    });
  });

  it('without approvers configured, a destructive call can never run: it stays pending', async () => {
    await setup({ approvers: {}, wait: '100ms' });
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const res = await h.rpc(alice, sid, 'tools/call', { name: 'delete_everything', arguments: {} });
    const id = ((res.response.result as { _meta: Record<string, { id: string }> })._meta['gatehouse/approval'] as { id: string }).id;
    await expect((await otherProcess()).decide(id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' })).rejects.toMatchObject({
      reason: 'not_an_approver',
    });
    expect(echo.calls).toHaveLength(0);
  });

  it('binds an approval to the requesting client: the same call from another client of the same user is not released, unless the approver chose any client', async () => {
    await setup({ wait: '200ms' });
    const fromClaude = await h.token('alice', { groups: ['eng'], clientId: 'claude-code' });
    const fromOther = await h.token('alice', { groups: ['eng'], clientId: 'other-agent' });
    const [sidA, sidB] = [await h.open(fromClaude), await h.open(fromOther)];
    const call = { name: 'delete_everything', arguments: { scope: 'bound' } };
    const meta = (res: { response: Record<string, unknown> }) =>
      (res.response.result as { _meta?: Record<string, { id: string; status: string }> })._meta?.['gatehouse/approval'] ?? { id: '', status: 'ran' };

    const first = meta(await h.rpc(fromClaude, sidA, 'tools/call', call));
    await (await otherProcess()).decide(first.id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' });
    // Client B asks for exactly the same call: not released; it files a request of its own.
    const fromB = meta(await h.rpc(fromOther, sidB, 'tools/call', call));
    expect(fromB).toMatchObject({ status: 'pending' });
    expect(fromB.id).not.toBe(first.id);
    expect(echo.calls).toHaveLength(0);
    expect(await h.assembly.storage.approvals.get(first.id)).toMatchObject({ status: 'approved', requester: { client: 'claude-code' } });
    expect(await h.assembly.storage.approvals.get(fromB.id)).toMatchObject({ status: 'pending', requester: { client: 'other-agent' } });
    expect((await audited('approval.refused')).map((r) => [r.approval.id, r.outcome.code])).toEqual([[first.id, 'approval_other_client']]);
    // Client A's retry runs, once.
    expect((await h.rpc(fromClaude, sidA, 'tools/call', call)).response.result).toMatchObject({ content: [{ text: 'delete_everything:{"scope":"bound"}' }] });
    expect(echo.calls).toHaveLength(1);

    // Approved for any client of alice: client B's pending request, used from client A.
    await (await otherProcess()).decide(fromB.id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve', anyClient: true });
    expect((await h.rpc(fromClaude, sidA, 'tools/call', call)).response.result).toMatchObject({ content: [{ text: 'delete_everything:{"scope":"bound"}' }] });
    expect(echo.calls).toHaveLength(2);
    const used = await audited('approval.used');
    expect(used.map((u) => [u.approval.id, u.actor.client, u.approval.client, u.approval.anyClient])).toEqual([
      [first.id, 'claude-code', 'claude-code', false],
      [fromB.id, 'claude-code', 'other-agent', true],
    ]);
    expect((await audited('approval.decided')).map((d) => [d.approval.id, d.approval.client, d.approval.anyClient])).toEqual([
      [first.id, 'claude-code', false],
      [fromB.id, 'other-agent', true],
    ]);
    // Another user's client never: the approval is still the user's.
    const bob = await h.token('bob', { groups: ['eng'], clientId: 'claude-code' });
    expect(meta(await h.rpc(bob, await h.open(bob), 'tools/call', call))).toMatchObject({ status: 'pending' });
    expect(echo.calls).toHaveLength(2);
  });

  it('files the exact arguments — __proto__, look-alikes, long strings — and audits that view', async () => {
    await setup({ wait: '100ms' });
    const alice = await h.token('alice', { groups: ['eng'] });
    const sid = await h.open(alice);
    const long = 'x'.repeat(5000);
    const body = `{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"delete_everything","arguments":{"__proto__":{"isAdmin":true},"scope":"\u0430ll\u202e","n":1e21,"s":"1","long":"${long}"}}}`;
    const res = await h.request(
      'POST',
      {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${alice}`,
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
      undefined,
      body,
    );
    expect(res.status).toBe(200);
    await res.text();
    const [record] = await h.assembly.storage.approvals.list({ status: ['pending'] });
    const view = argumentsView(record as ApprovalRecord);
    expect(view.integrity).toBe('exact');
    expect(view.text).toBe(
      `{\n  "__proto__": {\n    "isAdmin": true\n  },\n  "long": "${long}",\n  "n": 1e+21,\n  "s": "1",\n  "scope": "\\u0430ll\\u202e"\n}`,
    );
    const [requested] = await audited('approval.requested');
    expect(Object.keys(requested?.args as object)).toEqual(['__proto__', 'long', 'n', 's', 'scope']);
    expect(JSON.stringify(requested?.args)).toBe(view.json);
    expect(requested?.approval.arguments).toEqual({ integrity: 'exact', hidden: false, viewHash: view.viewHash, characters: view.characters });
  });
});

/**
 * The confirm tier against a client that answers every elicitation itself: the stage is run
 * directly with a fake client channel, so what the client was asked (and what ran) is visible.
 */
describe('approve stage: the confirm tier never takes the client’s word for it', () => {
  let dir: string;
  let storage: SqliteStorage;
  let audit: AuditLog;
  afterEach(async () => {
    await audit.close();
    await storage.close();
  });

  async function service(overrides: Partial<ApprovalSettings> = {}): Promise<ApprovalService> {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-confirm-'));
    storage = SqliteStorage.open(dir);
    audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
    });
    const settings: ApprovalSettings = {
      ttlMs: 60_000,
      waitMs: 400,
      progressIntervalMs: 100,
      approvers: {},
      breakGlass: { users: [], groups: [], minReasonLength: 10 },
      publicUrl: 'https://gh.example',
      dangerouslyAllowFormConfirm: false,
      ...overrides,
    };
    return new ApprovalService(storage.approvals, audit, silentLogger(), settings);
  }

  /** A client that says yes to everything, immediately. */
  function yesClient(modes: { form: boolean; url: boolean }) {
    const asked: ElicitRequest['params'][] = [];
    const completed: string[] = [];
    const client: ClientChannel = {
      elicitation: modes,
      elicit: async (params) => {
        asked.push(params);
        return params.mode === 'url' ? { action: 'accept' } : { action: 'accept', content: { confirm: true } };
      },
      elicitationComplete: async (id) => void completed.push(id),
    };
    return { client, asked, completed };
  }

  function context(client: ClientChannel | undefined, args: Record<string, unknown> = { a: 1, b: 2 }): CallContext {
    return {
      requestId: `req-${Math.random()}`,
      rpcId: 1,
      principal: {
        sub: 'dora',
        groups: ['confirmers'],
        clientId: 'claude-code',
        scopes: [],
        jti: 'j',
        issuedAt: 0,
        expiresAt: 0,
        act: [],
        authorizationDetails: undefined,
        authTime: undefined,
        amr: [],
        grantId: undefined,
        dpopJkt: undefined,
        claims: {},
      },
      origin: { sessionId: 's1', ip: '127.0.0.1', clientName: 'auto-yes', protocolVersion: '2025-11-25' },
      op: { method: 'tools/call', action: 'call', kind: 'tool', server: 'echo', name: 'add', id: 'echo__add', args },
      params: { name: 'add', arguments: args },
      signal: new AbortController().signal,
      startedAt: Date.now(),
      progress: undefined,
      client,
      decision: { effect: 'require_approval', level: 'confirm', policy: 'confirmers-add' } as CallContext['decision'],
      intentSeq: undefined,
      notes: {},
      control: {},
    };
  }
  const ran = { calls: 0 };
  const next = async () => {
    ran.calls++;
    return { content: [{ type: 'text', text: 'ran' }] };
  };

  it('form-only client that auto-accepts: it is never asked, the call does not run, the request stays pending', async () => {
    const svc = await service();
    const { client, asked } = yesClient({ form: true, url: false });
    ran.calls = 0;
    const result = (await approveStage(svc, silentLogger()).run(context(client), next)) as {
      isError: boolean;
      content: { text: string }[];
      _meta: Record<string, { id: string; url: string }>;
    };
    expect(asked).toEqual([]);
    expect(ran.calls).toBe(0);
    const meta = result._meta['gatehouse/approval'] as { id: string; url: string };
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toContain(`Confirmation pending: calling "echo__add" needs confirmation by you on Gatehouse's page, not in this client.`);
    expect(result.content[0]?.text).toContain(`Open https://gh.example/console/approvals/${meta.id}, sign in as dora and confirm`);
    expect(await storage.approvals.get(meta.id)).toMatchObject({ status: 'pending' });
  });

  it('URL-capable client that auto-accepts: accepting is not confirming — the call waits for the page and then returns pending', async () => {
    const svc = await service();
    const { client, asked, completed } = yesClient({ form: true, url: true });
    ran.calls = 0;
    const result = (await approveStage(svc, silentLogger()).run(context(client), next)) as { _meta: Record<string, { id: string; status: string }> };
    expect(asked).toHaveLength(1);
    const meta = result._meta['gatehouse/approval'] as { id: string; status: string };
    expect(asked[0]).toMatchObject({ mode: 'url', elicitationId: meta.id, url: `https://gh.example/console/approvals/${meta.id}` });
    expect(ran.calls).toBe(0);
    expect(completed).toEqual([]);
    expect(meta.status).toBe('pending');
    expect(await storage.approvals.get(meta.id)).toMatchObject({ status: 'pending' });
    await audit.flush();
    expect(await storage.audit.query({ kinds: ['approval.decided'] })).toEqual([]);
  });

  it('URL mode: the confirmation recorded by the page (any process) releases exactly that call, and the client is told it is complete', async () => {
    const svc = await service({ waitMs: 5000 });
    const { client, asked, completed } = yesClient({ form: false, url: true });
    ran.calls = 0;
    const running = approveStage(svc, silentLogger()).run(context(client), next);
    for (let i = 0; i < 200 && asked.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const id = (asked[0] as { elicitationId: string }).elicitationId;
    // The page's decision: the requester herself, through the console.
    await svc.decide(id, { sub: 'dora', groups: ['confirmers'], via: 'console' }, { decision: 'approve' });
    expect(await running).toMatchObject({ content: [{ text: 'ran' }] });
    expect(ran.calls).toBe(1);
    expect(completed).toEqual([id]);
    expect(await storage.approvals.get(id)).toMatchObject({ status: 'used', decidedVia: 'console' });
  });

  it('a client that declines the page decides nothing: the request stays open for the page', async () => {
    const svc = await service({ waitMs: 5000 });
    const client: ClientChannel = {
      elicitation: { form: false, url: true },
      elicit: async () => ({ action: 'decline' }),
      elicitationComplete: async () => undefined,
    };
    ran.calls = 0;
    const result = (await approveStage(svc, silentLogger()).run(context(client), next)) as { _meta: Record<string, { id: string; status: string }> };
    const meta = result._meta['gatehouse/approval'] as { id: string; status: string };
    expect(meta.status).toBe('pending');
    expect(ran.calls).toBe(0);
    expect(await storage.approvals.get(meta.id)).toMatchObject({ status: 'pending' });
  });

  it('with approvals.dangerouslyAllowFormConfirm the client’s form is trusted again (and the start-up warns)', async () => {
    const svc = await service({ dangerouslyAllowFormConfirm: true });
    const warnings: string[] = [];
    const log = {
      ...silentLogger(),
      warn: (...args: unknown[]) => void warnings.push(String(args.find((a) => typeof a === 'string'))),
    } as unknown as ReturnType<typeof silentLogger>;
    const stage = approveStage(svc, log);
    expect(warnings.some((w) => w.startsWith('approvals.dangerouslyAllowFormConfirm is on'))).toBe(true);
    const { client, asked } = yesClient({ form: true, url: false });
    ran.calls = 0;
    expect(await stage.run(context(client), next)).toMatchObject({ content: [{ text: 'ran' }] });
    expect(asked[0]).toMatchObject({ mode: 'form' });
    expect(asked[0]?.message).toContain('{\n  "a": 1,\n  "b": 2\n}');
    expect(ran.calls).toBe(1);
    await audit.flush();
    const decided = (await storage.audit.query({ kinds: ['approval.decided'] })).map((r) => JSON.parse(r.body) as { via: string });
    expect(decided.map((d) => d.via)).toEqual(['elicitation']);
  });
});
