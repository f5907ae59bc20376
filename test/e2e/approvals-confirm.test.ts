/**
 * The confirm tier against a real gateway process and MCP clients that answer every
 * elicitation themselves (as a compromised or careless client would). The client is not
 * trusted: only the person on Gatehouse's own page (signed in, CSRF-protected, fresh second
 * factor) — or the console, or the CLI — confirms. The client's form counts only behind
 * `approvals.dangerouslyAllowFormConfirm`, which warns at start.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ElicitationCompleteNotificationSchema, ElicitRequestSchema, type ClientCapabilities, type ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from '../helpers/browser.js';
import { completeSignIn, consoleBrowser, csrfOf, decide, open, unescapeHtml, visit, type Person } from '../helpers/console.js';
import { auditRows, cleanup, cli, connectClient, NODE, ROOT, sleep, startGateway, tempDir, text, waitFor, type GatewayProcess } from '../helpers/e2e.js';
import { PASSWORD } from '../helpers/oauth-gateway.js';

const RECORDER = path.join(ROOT, 'test/fixtures/recording-server.mjs');
const CONFIRM_POLICY =
  '@id("confirmers-add")\n@approval("confirm")\npermit(principal in Group::"confirmers", action == Action::"call", resource == Tool::"echo__add");\n';

type Pending = { id: string; status: string; url: string; level: string };
const pendingOf = (result: unknown): Pending =>
  ((result as { _meta?: Record<string, Pending> })._meta?.['gatehouse/approval'] ?? { id: '', status: 'none' }) as Pending;
const pageArguments = (html: string): string =>
  unescapeHtml((/<pre class="args" id="arguments">([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'"));

afterAll(cleanup);

/** A gateway whose `echo` server records every call it receives; `add` needs the caller's confirmation. */
async function confirmGateway(
  approvals: Record<string, unknown>,
): Promise<{ gw: GatewayProcess; calls: () => { name: string; arguments: Record<string, unknown> }[] }> {
  const root = tempDir('gh-apr-confirm-');
  const policies = path.join(root, 'policies');
  cpSync(path.join(ROOT, 'examples/policies'), policies, { recursive: true });
  writeFileSync(path.join(policies, '60-confirm.cedar'), CONFIRM_POLICY);
  const record = path.join(root, 'calls.jsonl');
  const gw = await startGateway({
    config: {
      // The recorder writes its calls file in the test folder: its one writable grant.
      servers: { echo: { command: NODE, args: [RECORDER, record], sandbox: { writable: [root] } } },
      policies,
      approvals: { progressInterval: '500ms', ...approvals },
      rateLimits: { enabled: false },
    },
  });
  const calls = () =>
    existsSync(record)
      ? readFileSync(record, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { name: string; arguments: Record<string, unknown> })
      : [];
  return { gw, calls };
}

/** A client that says yes to every elicitation, immediately, and remembers what it was asked. */
function yesMan(modes: NonNullable<ClientCapabilities['elicitation']>) {
  const asked: ElicitRequest['params'][] = [];
  const completed: string[] = [];
  return {
    asked,
    completed,
    options: {
      capabilities: { elicitation: modes },
      setup: (c: import('@modelcontextprotocol/sdk/client/index.js').Client) => {
        c.setRequestHandler(ElicitRequestSchema, async (request) => {
          asked.push(request.params);
          return request.params.mode === 'url' ? { action: 'accept' as const } : { action: 'accept' as const, content: { confirm: true } };
        });
        c.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => void completed.push(n.params.elicitationId));
      },
    },
  };
}

describe('confirm tier: only the person on Gatehouse’s page confirms', () => {
  let gw: GatewayProcess;
  let calls: () => { name: string; arguments: Record<string, unknown> }[];
  let dora: string;
  const person: Person = { username: 'dora' };
  let browser: Browser;

  beforeAll(async () => {
    ({ gw, calls } = await confirmGateway({ wait: '4s' }));
    const added = await cli(['users', 'add', 'dora', '--group', 'confirmers', '--data-dir', gw.dataDir, '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(added.code, added.stderr).toBe(0);
    dora = await gw.token('dora', { groups: ['confirmers'] });
    // Dora signs in to the console with a second factor (enrolled on the way), as she would before confirming.
    browser = consoleBrowser(gw.url);
    const list = await visit(browser, `${gw.url}/console/approvals`, person);
    expect(list.url.pathname).toBe('/console/approvals');
    const stepped = await completeSignIn(browser, await open(browser, `${gw.url}/account/sign-in?return_to=%2Fconsole%2Fapprovals&mfa=1`), person);
    expect(stepped.url.pathname).toBe('/console/approvals');
  });

  it('a client that auto-accepts form elicitations is never asked: the call does not run, and the result names the page', async () => {
    const client = yesMan({ form: {} });
    const agent = await connectClient(gw, dora, client.options);
    const result = await agent.callTool({ name: 'add', arguments: { a: 20, b: 22 } });
    const pending = pendingOf(result);
    expect(result.isError).toBe(true);
    expect(pending).toMatchObject({ status: 'pending', level: 'confirm', url: `${gw.url}/console/approvals/${pending.id}` });
    expect(text(result)).toContain(`Confirmation pending: calling "echo__add" needs confirmation by you on Gatehouse's page, not in this client.`);
    expect(text(result)).toContain(`Open ${gw.url}/console/approvals/${pending.id}, sign in as dora and confirm`);
    expect(client.asked).toEqual([]);
    expect(calls().filter((c) => c.name === 'add')).toEqual([]);
    const rows = await waitFor(() => {
      const r = auditRows(gw.dataDir);
      return r.some((x) => x.kind === 'call.result' && (x.body.notes as { approval?: { id: string } } | undefined)?.approval?.id === pending.id)
        ? r
        : undefined;
    }, 'the pending outcome');
    expect(
      rows.find((x) => x.kind === 'call.result' && (x.body.notes as { approval?: { id: string } } | undefined)?.approval?.id === pending.id)?.body.outcome,
    ).toEqual({ status: 'denied', code: 'approval.pending' });
    expect(rows.filter((x) => x.kind === 'approval.decided')).toEqual([]);
    const shown = JSON.parse((await cli(['approvals', 'show', pending.id, '--json', '--config', gw.configPath, '--data-dir', gw.dataDir])).stdout) as {
      status: string;
    };
    expect(shown.status).toBe('pending');
  });

  it('a client that auto-accepts the URL elicitation confirms nothing; dora confirming on the page releases exactly that call', async () => {
    const client = yesMan({ url: {}, form: {} });
    const agent = await connectClient(gw, dora, client.options);
    let settled = false;
    const args = { a: 2, b: 40, note: 'deploy \u202eto prod' };
    const call = agent.callTool({ name: 'add', arguments: args }, undefined, { timeout: 30_000 }).finally(() => (settled = true));
    const asked = await waitFor(() => client.asked[0], 'the URL elicitation');
    expect(asked).toMatchObject({ mode: 'url' });
    const url = (asked as { url: string }).url;
    const id = url.split('/').pop() as string;
    expect(url).toBe(`${gw.url}/console/approvals/${id}`);
    // The client said yes at once; nothing has run, and the call is still waiting for the page.
    await sleep(800);
    expect(settled).toBe(false);
    expect(calls().filter((c) => c.name === 'add')).toEqual([]);

    const page = await open(browser, url);
    expect(page.status).toBe(200);
    expect(pageArguments(page.html)).toBe('{\n  "a": 2,\n  "b": 40,\n  "note": "deploy \\u202eto prod"\n}');
    expect(page.html).toMatch(/<button class="approve" type="submit" name="decision" value="approve">Confirm<\/button>/);
    const confirmed = await decide(browser, gw.url, id, { csrf: csrfOf(page.html), decision: 'approve' });
    expect(confirmed.status).toBe(303);

    expect(text(await call)).toBe('ran add');
    expect(calls().filter((c) => c.name === 'add')).toEqual([{ name: 'add', arguments: args }]);
    await waitFor(() => client.completed.includes(id), 'notifications/elicitation/complete');
    const rows = auditRows(gw.dataDir);
    expect(rows.find((r) => r.kind === 'approval.decided' && (r.body.approval as { id: string }).id === id)?.body).toMatchObject({
      actor: { sub: 'dora' },
      via: 'console',
      approval: { status: 'approved', level: 'confirm' },
    });
    expect(rows.filter((r) => r.kind === 'approval.used' && (r.body.approval as { id: string }).id === id)).toHaveLength(1);
  });
});

describe('confirm tier with approvals.dangerouslyAllowFormConfirm', () => {
  it('warns at start, and the client’s own form confirms (yes runs the call, no refuses it)', async () => {
    const { gw, calls } = await confirmGateway({ wait: '4s', dangerouslyAllowFormConfirm: true });
    await gw.waitForLog((l) => l.level === 'warn' && String(l.msg).startsWith('approvals.dangerouslyAllowFormConfirm is on'), 'the start-up warning');
    const dora = await gw.token('dora', { groups: ['confirmers'] });
    const yes = yesMan({ form: {} });
    const agent = await connectClient(gw, dora, yes.options);
    expect(text(await agent.callTool({ name: 'add', arguments: { a: 1, b: 2 } }))).toBe('ran add');
    expect(yes.asked[0]).toMatchObject({ mode: 'form' });
    expect(yes.asked[0]?.message).toContain('{\n  "a": 1,\n  "b": 2\n}');
    expect(calls().filter((c) => c.name === 'add')).toEqual([{ name: 'add', arguments: { a: 1, b: 2 } }]);
    const decided = await waitFor(() => auditRows(gw.dataDir).find((r) => r.kind === 'approval.decided'), 'the decision in the audit log');
    expect(decided.body).toMatchObject({ actor: { sub: 'dora' }, via: 'elicitation', approval: { status: 'approved' } });

    const no = await connectClient(gw, dora, {
      capabilities: { elicitation: { form: {} } },
      setup: (c) => c.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'decline' as const })),
    });
    await expect(no.callTool({ name: 'add', arguments: { a: 5, b: 5 } })).rejects.toMatchObject({ code: -32003, data: { reason: 'confirmation_declined' } });
    expect(calls().filter((c) => c.name === 'add')).toHaveLength(1);
  });
});
