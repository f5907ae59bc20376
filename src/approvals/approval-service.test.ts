import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, hashArguments } from '../audit/index.js';
import { silentLogger } from '../log/index.js';
import { SqliteStorage } from '../storage/index.js';
import { KeyRing } from '../tokens/index.js';
import { ApprovalService, type NewApproval } from './approval-service.js';
import { ApprovalActionError, type ApprovalSettings } from './types.js';
import { captureArguments } from './exact-arguments.js';
import { EgressGuard } from '../egress/index.js';
import { webhookFetch, WebhookNotifier, type ApprovalEvent } from './webhook.js';

const settings: ApprovalSettings = {
  ttlMs: 15 * 60_000,
  waitMs: 2000,
  progressIntervalMs: 50,
  approvers: { db: { users: ['carol'], groups: [] }, '*': { users: [], groups: ['security'] } },
  breakGlass: { users: [], groups: ['oncall'], minReasonLength: 10 },
  publicUrl: 'https://gatehouse.example',
  dangerouslyAllowFormConfirm: false,
};

const newApproval = (over: Partial<NewApproval> = {}): NewApproval => {
  const args = over.args ?? { table: 'orders', max_rows: 10 };
  return {
    level: 'four-eyes',
    requester: { sub: 'alice', groups: ['eng', 'oncall'] },
    server: 'db',
    target: 'db__delete_rows',
    method: 'tools/call',
    reason: 'clean up test orders',
    policy: 'ops-destructive-four-eyes',
    ...over,
    args,
    argsHash: hashArguments(args),
  };
};

describe('ApprovalService', () => {
  let dir: string;
  let storage: SqliteStorage;
  let audit: AuditLog;
  let clock: number;
  let service: ApprovalService;
  const events: ApprovalEvent[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gh-aprs-'));
    storage = SqliteStorage.open(dir);
    audit = new AuditLog(storage.audit, await new KeyRing(storage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
    });
    clock = Date.UTC(2025, 0, 7, 10);
    events.length = 0;
    service = new ApprovalService(
      storage.approvals,
      audit,
      silentLogger(),
      settings,
      (e) => void events.push(e),
      () => clock,
    );
  });
  afterEach(async () => {
    await audit.close();
    await storage.close();
  });

  const kinds = async () => {
    await audit.flush();
    return (await storage.audit.query({ limit: 1000 })).map((r) => ({ kind: r.kind, body: JSON.parse(r.body) as Record<string, unknown> }));
  };
  const refusal = async (fn: () => Promise<unknown>) => {
    const error = await fn().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApprovalActionError);
    return (error as ApprovalActionError).reason;
  };

  it('files a request once, audits it durably and announces it; a retry joins it', async () => {
    const { record, created } = await service.request(newApproval());
    expect(created).toBe(true);
    expect(record).toMatchObject({ status: 'pending', level: 'four-eyes', expiresAt: clock + settings.ttlMs, reason: 'clean up test orders' });
    expect(record.id).toMatch(/^apr_[A-Za-z0-9_-]{22}$/);
    expect((await service.request(newApproval())).record.id).toBe(record.id);
    expect(events.map((e) => [e.type, e.url])).toEqual([['approval.requested', `https://gatehouse.example/console/approvals/${record.id}`]]);
    expect((await kinds()).filter((k) => k.kind === 'approval.requested')).toHaveLength(1);
  });

  it('lets another human with the approver role approve, and audits it', async () => {
    const { record } = await service.request(newApproval());
    const approved = await service.decide(record.id, { sub: 'carol', groups: [], via: 'cli', osUser: 'root' }, { decision: 'approve', note: 'ok' });
    expect(approved).toMatchObject({ status: 'approved', decidedBy: 'carol', decidedVia: 'cli', note: 'ok', breakGlass: false });
    const decided = (await kinds()).find((k) => k.kind === 'approval.decided');
    expect(decided?.body).toMatchObject({
      actor: { sub: 'carol' },
      via: 'cli',
      osUser: 'root',
      approval: { id: record.id, status: 'approved', requester: 'alice' },
    });
    // A group-based approver role under '*' works too.
    const other = await service.request(newApproval({ args: { table: 'other' } }));
    expect(await service.decide(other.record.id, { sub: 'sam', groups: ['security'], via: 'console' }, { decision: 'deny' })).toMatchObject({
      status: 'denied',
      decidedBy: 'sam',
    });
  });

  it('refuses self-approval, approvers without the role, decided and expired requests — each audited', async () => {
    const { record } = await service.request(newApproval());
    expect(await refusal(() => service.decide(record.id, { sub: 'alice', groups: ['eng'], via: 'console' }, { decision: 'approve' }))).toBe('self_approval');
    expect(await refusal(() => service.decide(record.id, { sub: 'mallory', groups: ['eng'], via: 'cli' }, { decision: 'approve' }))).toBe('not_an_approver');
    expect(await refusal(() => service.decide('apr_nope', { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' }))).toBe('approval_not_found');
    await service.decide(record.id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' });
    expect(await refusal(() => service.decide(record.id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' }))).toBe('approval_not_pending');
    const late = await service.request(newApproval({ args: { table: 'late' } }));
    clock += settings.ttlMs;
    expect(await refusal(() => service.decide(late.record.id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' }))).toBe('approval_expired');
    const refused = (await kinds()).filter((k) => k.kind === 'approval.refused').map((k) => (k.body.outcome as { code: string }).code);
    expect(refused).toEqual(['self_approval', 'not_an_approver', 'approval_not_found', 'approval_not_pending', 'approval_expired']);
    expect((await storage.approvals.get(record.id))?.decidedBy).toBe('carol');
  });

  it('break-glass: the requester approves their own four-eyes request only with the role and a written reason — loudly', async () => {
    const { record } = await service.request(newApproval());
    expect(
      await refusal(() =>
        service.decide(record.id, { sub: 'alice', groups: ['oncall'], via: 'cli' }, { decision: 'approve', breakGlass: true, note: 'urgent' }),
      ),
    ).toBe('break_glass_reason_required');
    expect(
      await refusal(() =>
        service.decide(
          record.id,
          { sub: 'alice', groups: ['eng'], via: 'cli' },
          { decision: 'approve', breakGlass: true, note: 'production is down, INC-4711' },
        ),
      ),
    ).toBe('break_glass_not_allowed');
    expect(
      await refusal(() =>
        service.decide(
          record.id,
          { sub: 'carol', groups: ['oncall'], via: 'cli' },
          { decision: 'approve', breakGlass: true, note: 'production is down, INC-4711' },
        ),
      ),
    ).toBe('break_glass_not_allowed');
    const approved = await service.decide(
      record.id,
      { sub: 'alice', groups: ['oncall'], via: 'cli' },
      { decision: 'approve', breakGlass: true, note: 'production is down, INC-4711' },
    );
    expect(approved).toMatchObject({ status: 'approved', breakGlass: true, note: 'production is down, INC-4711' });
    expect((await kinds()).find((k) => k.kind === 'approval.break_glass')?.body).toMatchObject({
      approval: { breakGlass: true, note: 'production is down, INC-4711' },
    });
    expect(events.at(-1)?.type).toBe('approval.break_glass');
  });

  it('confirm level: the requesting human may confirm their own request', async () => {
    const { record } = await service.request(newApproval({ level: 'confirm' }));
    expect(await service.decide(record.id, { sub: 'alice', groups: [], via: 'elicitation' }, { decision: 'approve' })).toMatchObject({
      status: 'approved',
      decidedVia: 'elicitation',
    });
  });

  it('uses an approval exactly once', async () => {
    const { record } = await service.request(newApproval());
    const approved = await service.decide(record.id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'approve' });
    const results = await Promise.all([service.consume(approved, 'r1', undefined), service.consume(approved, 'r2', undefined)]);
    expect(results.sort()).toEqual([false, true]);
    expect((await kinds()).filter((k) => k.kind === 'approval.used')).toHaveLength(1);
  });

  it('wakes a waiting call on a decision made in this process, and on one made by another process (the CLI)', async () => {
    const { record } = await service.request(newApproval());
    const signal = new AbortController().signal;
    const waiting = service.waitForDecision(record.id, { signal, timeoutMs: 5000 });
    setTimeout(() => void service.decide(record.id, { sub: 'carol', groups: [], via: 'console' }, { decision: 'approve' }), 20);
    expect(await waiting).toMatchObject({ kind: 'decided', record: { status: 'approved' } });

    const second = await service.request(newApproval({ args: { table: 'second' } }));
    const cliStorage = SqliteStorage.open(dir);
    const cliAudit = new AuditLog(cliStorage.audit, await new KeyRing(cliStorage.signingKeys, 'audit').init(), silentLogger(), {
      checkpointEvery: 1000,
      checkpointIntervalMs: 60_000,
    });
    const cli = new ApprovalService(cliStorage.approvals, cliAudit, silentLogger(), settings, undefined, () => clock);
    const waitingElsewhere = service.waitForDecision(second.record.id, { signal, timeoutMs: 5000 });
    await cli.decide(second.record.id, { sub: 'carol', groups: [], via: 'cli' }, { decision: 'deny', note: 'no' });
    expect(await waitingElsewhere).toMatchObject({ kind: 'decided', record: { status: 'denied', note: 'no' } });
    await cliAudit.close();
    await cliStorage.close();
  });

  it('times out with the record still pending, ticking progress; an abort ends the wait', async () => {
    const ticks: number[] = [];
    const realClock = new ApprovalService(storage.approvals, audit, silentLogger(), settings);
    const { record } = await realClock.request(newApproval());
    const outcome = await realClock.waitForDecision(record.id, {
      signal: new AbortController().signal,
      timeoutMs: 300,
      onTick: (ms) => ticks.push(ms),
      tickMs: 50,
    });
    expect(outcome).toMatchObject({ kind: 'timeout', record: { status: 'pending' } });
    expect(ticks.length).toBeGreaterThan(1);
    const abort = new AbortController();
    const waiting = realClock.waitForDecision(record.id, { signal: abort.signal, timeoutMs: 5000 });
    abort.abort();
    expect(await waiting).toEqual({ kind: 'cancelled' });
  });
});

describe('WebhookNotifier', () => {
  let server: Server;
  let received: { headers: IncomingMessage['headers']; body: Record<string, unknown> }[];
  let url: string;
  let hang = false;
  let connections = 0;
  // Tests reach a webhook on loopback only because they allow it, as an operator would.
  const loopback = () => webhookFetch(new EgressGuard({ purpose: 'approval webhook', allowAddresses: ['127.0.0.1/32'] }), 5000);

  beforeEach(async () => {
    received = [];
    hang = false;
    connections = 0;
    server = createServer((req, res) => {
      if (req.url === '/redirect') return void res.writeHead(307, { location: '/hook' }).end();
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
        if (!hang) res.end('ok');
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const event: ApprovalEvent = {
    type: 'approval.requested',
    url: 'https://gatehouse.example/console/approvals/apr_x',
    approval: {
      id: 'apr_x',
      status: 'pending',
      level: 'four-eyes',
      requester: { sub: 'alice', groups: ['eng'], client: 'claude' },
      server: 'db',
      target: 'db__delete_rows',
      method: 'tools/call',
      args: captureArguments({ table: 'orders' }).node,
      argsFormat: 'exact-v1',
      argsMasked: false,
      argsHash: hashArguments({ table: 'orders' }),
      reason: 'cleanup <!channel> <https://evil.example|click> & more',
      createdAt: 0,
      expiresAt: 900_000,
      breakGlass: false,
      anyClient: false,
    },
  };

  it('posts the generic JSON event with configured headers', async () => {
    await new WebhookNotifier(
      [{ url, format: 'json', headers: { authorization: 'Bearer hook-secret' }, timeoutMs: 2000 }],
      silentLogger(),
      undefined,
      loopback(),
    ).notify(event);
    expect(received[0]?.headers.authorization).toBe('Bearer hook-secret');
    expect(received[0]?.body).toMatchObject({
      type: 'approval.requested',
      approval: {
        id: 'apr_x',
        target: 'db__delete_rows',
        arguments: { table: 'orders' },
        argumentsText: '{\n  "table": "orders"\n}',
        argumentsIntegrity: 'exact',
        argumentsHidden: false,
        argsHash: hashArguments({ table: 'orders' }),
        url: event.url,
        cli: 'gatehouse approvals approve apr_x --as <you>',
      },
    });
  });

  it('posts a Slack message with everything from the agent escaped (no pings, no fake links)', async () => {
    await new WebhookNotifier([{ url, format: 'slack', headers: {}, timeoutMs: 2000 }], silentLogger(), undefined, loopback()).notify(event);
    const text = received[0]?.body.text as string;
    expect(text).toContain(':lock: *Approval needed* (four-eyes): *alice* wants to call `db__delete_rows`');
    expect(text).toContain('cleanup &lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; more');
    expect(text).toContain(`<${event.url}|Review in the console>`);
    expect(received[0]?.body.blocks).toEqual(
      expect.arrayContaining([{ type: 'section', text: { type: 'mrkdwn', text: expect.stringContaining('```{\n  "table": "orders"\n}```') } }]),
    );
  });

  it('gives up after the timeout and reports the failure without throwing', async () => {
    hang = true;
    const failures: string[] = [];
    await new WebhookNotifier(
      [{ url, format: 'json', headers: {}, timeoutMs: 100 }],
      silentLogger(),
      (_t, _e, error) => failures.push(error),
      loopback(),
    ).notify(event);
    expect(failures).toEqual(['timed out after 100 ms']);
  });

  it('goes through the egress guard: a loopback, private or metadata webhook is refused unless allowed, before connecting', async () => {
    const failures: string[] = [];
    const mapped = url.replace('127.0.0.1', '[::ffff:7f00:1]');
    const decimal = url.replace('127.0.0.1', '2130706433');
    await new WebhookNotifier(
      [url, mapped, decimal, 'http://169.254.169.254/latest/meta-data/'].map((u) => ({ url: u, format: 'json' as const, headers: {}, timeoutMs: 2000 })),
      silentLogger(),
      (_t, _e, error) => failures.push(error),
    ).notify(event);
    expect(connections).toBe(0);
    expect(received).toEqual([]);
    expect(failures).toHaveLength(4);
    expect(failures[0]).toMatch(/127\.0\.0\.1 is a loopback address, not a public one/);
    expect(failures[3]).toMatch(/cloud metadata address/);
  });

  it('does not follow a redirect', async () => {
    const failures: string[] = [];
    await new WebhookNotifier(
      [{ url: url.replace('/hook', '/redirect'), format: 'json', headers: {}, timeoutMs: 2000 }],
      silentLogger(),
      (_t, _e, error) => failures.push(error),
      loopback(),
    ).notify(event);
    expect(received).toEqual([]);
    expect(failures[0]).toMatch(/refusing to follow a redirect/);
  });
});
