import { ElicitationCompleteNotificationSchema, ElicitRequestSchema, McpError, type ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approvalRows,
  auditRows,
  cleanup,
  connectClient,
  sleep,
  startGateway,
  STARTER_POLICIES,
  text,
  waitFor,
  type GatewayProcess,
} from '../helpers/policy-e2e.js';

afterAll(cleanup);

const APPROVALS = {
  approvers: { echo: { users: ['carol'] } },
  directory: { carol: ['sre'], alice: ['eng', 'oncall'], mallory: ['eng'] },
  breakGlass: { groups: ['oncall'] },
};
const CONFIRM_POLICY = {
  '60-confirm.cedar':
    '@id("confirmers-add")\n@approval("confirm")\npermit(principal in Group::"confirmers", action == Action::"call", resource == Tool::"echo__add");\n',
};

type PendingMeta = { id: string; status: string; level: string; url: string; expiresAt: string };
const pendingMeta = (result: unknown): PendingMeta =>
  ((result as { _meta?: Record<string, PendingMeta> })._meta?.['gatehouse/approval'] ?? { id: '', status: 'none' }) as PendingMeta;

describe('four-eyes approval while the call waits (CLI approver)', () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    gw = await startGateway(
      { approvals: { ...APPROVALS, wait: '25s', progressInterval: '500ms' }, rateLimits: { enabled: false } },
      { policies: STARTER_POLICIES, extraPolicies: CONFIRM_POLICY },
    );
  });

  it('holds the destructive call with progress until a second person approves from the CLI; refuses self-approval and a non-approver, audited', async () => {
    const client = await connectClient(gw, await gw.token('alice', ['eng']));
    const progress: string[] = [];
    const call = client.callTool({ name: 'delete_everything', arguments: { _gatehouse_reason: 'reset the staging data' } }, undefined, {
      onprogress: (p) => progress.push(String(p.message)),
      timeout: 60_000,
    });
    const pending = await waitFor(() => approvalRows(gw.dataDir).find((r) => r.status === 'pending'), 'a pending approval request');

    const listed = await gw.cli(['approvals', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([
      {
        id: pending.id,
        status: 'pending',
        level: 'four-eyes',
        requester: 'alice',
        target: 'echo__delete_everything',
        reason: 'reset the staging data',
        policy: 'eng-call-echo',
      },
    ]);

    const self = await gw.cli(['approvals', 'approve', pending.id, '--as', 'alice']);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('refused (self_approval): A four-eyes request must be approved by someone other than the requester.');
    const stranger = await gw.cli(['approvals', 'approve', pending.id, '--as', 'mallory']);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain('refused (not_an_approver)');

    const approved = await gw.cli(['approvals', 'approve', pending.id, '--as', 'carol', '--note', 'checked with alice']);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain(`${pending.id} approved by carol`);
    expect(text(await call)).toBe('deleted (not really)');
    expect(progress.some((m) => m.includes(pending.id) && m.includes('a second person'))).toBe(true);

    const rows = await waitFor(() => {
      const r = auditRows(gw.dataDir);
      return r.some((x) => x.kind === 'call.result' && x.body.target?.tool === 'echo__delete_everything') ? r : undefined;
    }, 'the call result');
    const refused = rows.filter((r) => r.kind === 'approval.refused').map((r) => [r.body.actor.sub, r.body.via, r.body.outcome.code]);
    expect(refused).toEqual([
      ['alice', 'cli', 'self_approval'],
      ['mallory', 'cli', 'not_an_approver'],
    ]);
    expect(rows.find((r) => r.kind === 'approval.decided')?.body).toMatchObject({
      actor: { sub: 'carol', groups: ['sre'] },
      via: 'cli',
      approval: { id: pending.id, status: 'approved', requester: 'alice' },
    });
    expect(rows.find((r) => r.kind === 'approval.used')?.body).toMatchObject({ approval: { id: pending.id, decidedBy: 'carol' } });
    const kinds = rows.map((r) => r.kind);
    expect(kinds.indexOf('approval.used')).toBeLessThan(kinds.lastIndexOf('call.intent'));
  });

  it('an agent token can never approve: the console refuses bearer requests (audited), and MCP has no approve method', async () => {
    const client = await connectClient(gw, await gw.token('alice', ['eng']));
    const call = client.callTool({ name: 'delete_everything', arguments: { attempt: 2 } }, undefined, { timeout: 60_000 }).catch((e: unknown) => e);
    const pending = await waitFor(() => approvalRows(gw.dataDir).find((r) => r.status === 'pending'), 'a pending approval request');
    const carolsAgent = await gw.token('carol', ['sre']);
    const res = await fetch(`${gw.url}/console/approvals/${pending.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carolsAgent}`, origin: gw.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=approve',
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('an agent can never approve anything');
    const viaMcp = await (await connectClient(gw, carolsAgent))
      .request(
        { method: 'approvals/approve' as 'ping', params: { id: pending.id } as never },
        (await import('@modelcontextprotocol/sdk/types.js')).EmptyResultSchema,
      )
      .catch((e: unknown) => e);
    expect(viaMcp).toMatchObject({ code: -32601 });
    expect(approvalRows(gw.dataDir).find((r) => r.id === pending.id)?.status).toBe('pending');
    await waitFor(
      () => auditRows(gw.dataDir).find((r) => r.kind === 'approval.refused' && r.body.outcome.code === 'agent_token'),
      'the refusal in the audit log',
    );
    await gw.cli(['approvals', 'deny', pending.id, '--as', 'carol', '--note', 'not needed']);
    expect(await call).toMatchObject({ code: -32003, data: { reason: 'approval_denied', approvalId: pending.id } });
  });

  it('break-glass: the requester approves their own request with a mandatory reason, loudly', async () => {
    const client = await connectClient(gw, await gw.token('alice', ['eng']));
    const call = client.callTool({ name: 'delete_everything', arguments: { attempt: 3 } }, undefined, { timeout: 60_000 });
    const pending = await waitFor(() => approvalRows(gw.dataDir).find((r) => r.status === 'pending'), 'a pending approval request');
    const noReason = await gw.cli(['approvals', 'approve', pending.id, '--as', 'alice', '--break-glass']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--break-glass needs --reason');
    const glass = await gw.cli([
      'approvals',
      'approve',
      pending.id,
      '--as',
      'alice',
      '--break-glass',
      '--reason',
      'staging is wedged and blocks the release, INC-4711',
    ]);
    expect(glass.code).toBe(0);
    expect(glass.stdout).toContain('APPROVED (BREAK-GLASS)');
    expect(text(await call)).toBe('deleted (not really)');
    await waitFor(
      () => gw.logs().find((l) => l.msg === 'BREAK-GLASS: running a call its own requester approved' && l.level === 'error'),
      'the break-glass error log line',
    );
    const record = await waitFor(() => auditRows(gw.dataDir).find((r) => r.kind === 'approval.break_glass'), 'the break-glass audit record');
    expect(record.body).toMatchObject({ actor: { sub: 'alice' }, approval: { breakGlass: true, note: 'staging is wedged and blocks the release, INC-4711' } });
  });

  it('confirm tier with a form-only client: the client is never asked (its yes is no confirmation); the person confirms out of band', async () => {
    const asked: ElicitRequest['params'][] = [];
    const client = await connectClient(gw, await gw.token('dora', ['confirmers']), {
      capabilities: { elicitation: { form: {} } },
      setup: (c) =>
        c.setRequestHandler(ElicitRequestSchema, async (request) => {
          asked.push(request.params);
          return { action: 'accept', content: { confirm: true } };
        }),
    });
    const progress: string[] = [];
    const call = client.callTool({ name: 'add', arguments: { a: 20, b: 22 } }, undefined, {
      onprogress: (p) => progress.push(String(p.message)),
      timeout: 60_000,
    });
    const pending = await waitFor(() => approvalRows(gw.dataDir).find((r) => r.status === 'pending' && r.target === 'echo__add'), 'the pending confirmation');
    expect((await gw.cli(['approvals', 'approve', pending.id, '--as', 'dora'])).code).toBe(0);
    expect(text(await call)).toBe('42');
    expect(asked).toEqual([]);
    expect(progress.some((m) => m.includes(`Waiting for you to confirm ${pending.id} at ${gw.url}/console/approvals/${pending.id}`))).toBe(true);
    expect(auditRows(gw.dataDir).filter((r) => r.kind === 'approval.decided' && r.body.via === 'elicitation')).toEqual([]);
  });

  it('confirm tier through MCP elicitation, URL mode: the client is sent to the console page; the confirmation completes the call', async () => {
    const urls: string[] = [];
    let completed = '';
    const client = await connectClient(gw, await gw.token('dora', ['confirmers']), {
      capabilities: { elicitation: { url: {}, form: {} } },
      setup: (c) => {
        c.setRequestHandler(ElicitRequestSchema, async (request) => {
          if (request.params.mode === 'url') urls.push(request.params.url);
          return { action: 'accept' };
        });
        c.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => {
          completed = n.params.elicitationId;
        });
      },
    });
    const call = client.callTool({ name: 'add', arguments: { a: 2, b: 2 } }, undefined, { timeout: 60_000 });
    const url = await waitFor(() => urls[0], 'the URL elicitation');
    const id = url.split('/').pop() as string;
    expect(url).toBe(`${gw.url}/console/approvals/${id}`);
    // Out of band, the requesting person confirms (here from the CLI; normally on that console page).
    expect((await gw.cli(['approvals', 'approve', id, '--as', 'dora'])).code).toBe(0);
    expect(text(await call)).toBe('4');
    await waitFor(() => completed === id, 'notifications/elicitation/complete');
  });
});

describe('pending results, retries, replays, changed arguments, races and expiry', () => {
  const TTL_MS = 12_000;
  let gw: GatewayProcess;
  let alice: string;
  let hook: Server;
  const hooked: { type: string; approval: { id: string; status: string; decidedBy?: string } }[] = [];

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooked.push(JSON.parse(body) as (typeof hooked)[number]);
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const webhooks = [{ url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/approvals`, format: 'json' }];
    // The webhook listens on loopback: allowed explicitly, as an operator would. The lifetime is
    // short so the expiry test can wait it out, yet long enough that an approving CLI which starts
    // slowly on a loaded machine (over 5 s was seen at load 12 on 2 cores) still finds the request
    // pending.
    gw = await startGateway(
      {
        approvals: { ...APPROVALS, wait: '500ms', ttl: `${TTL_MS}ms`, webhooks },
        rateLimits: { enabled: false },
        egress: { allowAddresses: ['127.0.0.1/32'] },
      },
      { policies: STARTER_POLICIES },
    );
    alice = await gw.token('alice', ['eng']);
  });
  afterAll(() => new Promise<void>((resolve) => hook.close(() => resolve())));

  it('announces a request (from the gateway) and its decision (from the CLI) to the webhook', async () => {
    const client = await connectClient(gw, alice);
    const meta = pendingMeta(await client.callTool({ name: 'delete_everything', arguments: { table: 'hooked' } }));
    await waitFor(() => hooked.find((e) => e.type === 'approval.requested' && e.approval.id === meta.id), 'the approval.requested webhook');
    expect((await gw.cli(['approvals', 'approve', meta.id, '--as', 'carol'])).code).toBe(0);
    const decided = await waitFor(() => hooked.find((e) => e.type === 'approval.decided' && e.approval.id === meta.id), 'the approval.decided webhook');
    expect(decided.approval).toMatchObject({ status: 'approved', decidedBy: 'carol' });
  });

  const approve = async (id: string) => expect((await gw.cli(['approvals', 'approve', id, '--as', 'carol'])).code).toBe(0);

  it('returns a clear pending result; the retry with the same arguments proceeds once; a replay needs a new approval', async () => {
    const client = await connectClient(gw, alice);
    const first = await client.callTool({ name: 'delete_everything', arguments: { table: 'a' } });
    const meta = pendingMeta(first);
    expect(first.isError).toBe(true);
    expect(meta).toMatchObject({ status: 'pending', level: 'four-eyes', url: `${gw.url}/console/approvals/${meta.id}` });
    expect(text(first)).toContain(`Approval pending: calling "echo__delete_everything" needs approval by a second person. Request ${meta.id} expires at`);
    expect(text(first)).toContain(`gatehouse approvals approve ${meta.id} --as <approver>`);
    // Audited as held for approval, not as a failing tool.
    const held = await waitFor(
      () => auditRows(gw.dataDir).find((r) => r.kind === 'call.result' && r.body.notes?.approval?.id === meta.id),
      'the pending outcome',
    );
    expect(held.body.outcome).toEqual({ status: 'denied', code: 'approval.pending' });
    await approve(meta.id);
    expect(text(await client.callTool({ name: 'delete_everything', arguments: { table: 'a' } }))).toBe('deleted (not really)');
    const replay = await client.callTool({ name: 'delete_everything', arguments: { table: 'a' } });
    expect(pendingMeta(replay).id).not.toBe(meta.id);
    expect(pendingMeta(replay).status).toBe('pending');
    await waitFor(
      () =>
        auditRows(gw.dataDir).find((r) => r.kind === 'approval.refused' && r.body.outcome.code === 'approval_already_used' && r.body.approval.id === meta.id),
      'the refused replay',
    );
    expect(auditRows(gw.dataDir).filter((r) => r.kind === 'approval.used' && r.body.approval.id === meta.id)).toHaveLength(1);
  });

  it('changing the arguments after approval needs a new approval', async () => {
    const client = await connectClient(gw, alice);
    const meta = pendingMeta(await client.callTool({ name: 'delete_everything', arguments: { table: 'b' } }));
    await approve(meta.id);
    const changed = await client.callTool({ name: 'delete_everything', arguments: { table: 'everything' } });
    expect(pendingMeta(changed).status).toBe('pending');
    expect(pendingMeta(changed).id).not.toBe(meta.id);
    expect(approvalRows(gw.dataDir).find((r) => r.id === meta.id)?.status).toBe('approved');
  });

  it('two calls racing for one approval: exactly one proceeds', async () => {
    const [one, two] = [await connectClient(gw, alice), await connectClient(gw, alice)];
    const meta = pendingMeta(await one.callTool({ name: 'delete_everything', arguments: { table: 'race' } }));
    await approve(meta.id);
    const results = await Promise.all([one, two].map((c) => c.callTool({ name: 'delete_everything', arguments: { table: 'race' } }).catch((e: unknown) => e)));
    const ran = results.filter((r) => !(r instanceof McpError) && !(r as { isError?: boolean }).isError);
    expect(ran).toHaveLength(1);
    expect(text(ran[0])).toBe('deleted (not really)');
    expect(auditRows(gw.dataDir).filter((r) => r.kind === 'approval.used' && r.body.approval.id === meta.id)).toHaveLength(1);
    expect(
      auditRows(gw.dataDir).filter((r) => r.kind === 'call.result' && r.body.notes?.approval?.id === meta.id && r.body.outcome.status === 'ok'),
    ).toHaveLength(1);
  });

  it('an expired approval does not count, and cannot be approved any more', async () => {
    const client = await connectClient(gw, alice);
    const meta = pendingMeta(await client.callTool({ name: 'delete_everything', arguments: { table: 'late' } }));
    await approve(meta.id);
    await sleep(TTL_MS + 200);
    const late = await client.callTool({ name: 'delete_everything', arguments: { table: 'late' } });
    expect(pendingMeta(late).status).toBe('pending');
    expect(pendingMeta(late).id).not.toBe(meta.id);
    await waitFor(
      () => auditRows(gw.dataDir).find((r) => r.kind === 'approval.refused' && r.body.outcome.code === 'approval_expired' && r.body.approval.id === meta.id),
      'the refused expired approval',
    );
    await sleep(TTL_MS + 200);
    const tooLate = await gw.cli(['approvals', 'approve', pendingMeta(late).id, '--as', 'carol']);
    expect(tooLate.code).toBe(1);
    expect(tooLate.stderr).toContain('refused (approval_expired)');
    const expired = await gw.cli(['approvals', 'list', '--status', 'expired', '--json']);
    expect((JSON.parse(expired.stdout) as { id: string }[]).map((r) => r.id)).toContain(pendingMeta(late).id);
  });
});
