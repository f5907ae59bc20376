/**
 * What approvers see is what the approval releases, against a real gateway process: the
 * console page, `approvals show --json`, the JSON and Slack webhooks and the audit record all
 * carry one view of the exact arguments (every key, type and character), hidden values are
 * marked and approved only knowingly, and an approval releases the requesting OAuth client's
 * call only — unless the approver says any client.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashArguments } from '../../src/audit/index.js';
import type { Browser } from '../helpers/browser.js';
import { completeSignIn, consoleBrowser, csrfOf, decide, open, unescapeHtml, visit, type Person } from '../helpers/console.js';
import {
  auditRows,
  cleanup,
  cli,
  connectClient,
  NODE,
  ROOT,
  startGateway,
  tempDir,
  text,
  waitFor,
  type CliResult,
  type GatewayProcess,
} from '../helpers/e2e.js';
import { codeFlow, discover, register } from '../helpers/oauth4-flow.js';
import { PASSWORD, type OAuthGateway } from '../helpers/oauth-gateway.js';

const RECORDER = path.join(ROOT, 'test/fixtures/recording-server.mjs');
const POLICIES = path.join(ROOT, 'examples/policies');
/** A credential Gatehouse holds (a vault secret the upstream's environment names). */
const HELD = `held-${randomBytes(8).toString('hex')}`;

type Pending = { id: string; status: string; url: string };
const pendingOf = (result: unknown): Pending =>
  ((result as { _meta?: Record<string, Pending> })._meta?.['gatehouse/approval'] ?? { id: '', status: 'none', url: '' }) as Pending;
type Shown = {
  id: string;
  arguments: unknown;
  argumentsText: string;
  argumentsIntegrity: string;
  argumentsHidden: boolean;
  argsHash: string;
  viewHash: string;
  client?: string;
  anyClient?: boolean;
};
type Hooked = { path: string; body: Record<string, any> };

/** The rendering on a console page, HTML entities undone. */
const pageArguments = (html: string): string =>
  unescapeHtml((/<pre class="args" id="arguments">([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'"));

afterAll(cleanup);

describe('approvals: one exact view of the arguments, hidden values acknowledged, bound to the client', () => {
  let gw: GatewayProcess;
  let env: NodeJS.ProcessEnv;
  let record: string;
  let hook: Server;
  const hooked: Hooked[] = [];
  const browsers: Record<string, Browser> = {};
  const bob: Person = { username: 'bob' };
  let agentA: Client;
  let agentB: Client;
  let clientA: string;
  let clientB: string;

  const gatehouse = (args: string[]): Promise<CliResult> => cli([...args, '--config', gw.configPath, '--data-dir', gw.dataDir], { env });
  const show = async (id: string): Promise<Shown> => {
    const res = await gatehouse(['approvals', 'show', id, '--json']);
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout) as Shown;
  };
  const status = async (id: string) => (await show(id)) as Shown & { status: string };
  /** What reached the upstream, in order. */
  const upstreamCalls = (): { name: string; arguments: Record<string, unknown> }[] =>
    existsSync(record)
      ? readFileSync(record, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { name: string; arguments: Record<string, unknown> })
      : [];
  const hookFor = (id: string, where: string, type = 'approval.requested') =>
    waitFor(
      () => hooked.find((h) => h.path === where && (where === '/json' ? h.body.type === type && h.body.approval.id === id : String(h.body.text).includes(id))),
      `the ${where} webhook for ${id}`,
      15_000,
    );
  /** A real agent token for alice: the OAuth code flow for a freshly registered client. */
  const agentToken = async (name: string): Promise<{ token: string; clientId: string }> => {
    const target = { url: gw.url, mcpUrl: gw.mcpUrl, browser: () => browsers.alice } as unknown as OAuthGateway;
    const as = await discover(target);
    const client = await register(as, { redirect_uris: ['http://127.0.0.1:53117/callback'], client_name: name });
    const tokens = await codeFlow(target, as, client, { browser: browsers.alice as Browser, username: 'alice', scope: 'mcp' });
    return { token: tokens.access_token, clientId: client.client_id };
  };
  /** Bob opens the request in the console with a fresh second factor (enrolling TOTP the first time); returns the page. */
  const bobOpens = async (id: string) => {
    const b = browsers.bob as Browser;
    let page = await visit(b, `${gw.url}/console/approvals/${id}`, bob);
    const stepUp = /href="([^"]+)">Confirm with your second factor/.exec(page.html)?.[1];
    if (stepUp) page = await completeSignIn(b, await open(b, `${gw.url}${unescapeHtml(stepUp)}`), bob);
    expect(page.url.pathname).toBe(`/console/approvals/${id}`);
    expect(page.html).not.toContain('Confirm with your second factor');
    return page;
  };

  beforeAll(async () => {
    const root = tempDir('gh-apr-view-');
    env = { ...process.env, HOME: path.join(root, 'home'), XDG_CONFIG_HOME: path.join(root, 'config') };
    delete env.GATEHOUSE_MASTER_KEY;
    delete env.GATEHOUSE_MASTER_KEY_FILE;
    mkdirSync(env.HOME as string, { recursive: true });
    record = path.join(root, 'upstream-calls.jsonl');
    const dataDir = path.join(root, 'data');
    const put = await cli(['vault', 'put', 'api-token', '--data-dir', dataDir], { env, input: HELD });
    expect(put.code, put.stderr).toBe(0);

    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooked.push({ path: req.url ?? '', body: JSON.parse(body) as Record<string, any> });
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;

    gw = await startGateway({
      config: {
        // The recorder writes its calls file in the test folder: its one writable grant.
        servers: { echo: { command: NODE, args: [RECORDER, record], env: { API_TOKEN: 'vault:api-token' }, sandbox: { writable: [root] } } },
        policies: POLICIES,
        approvals: {
          approvers: { echo: { groups: ['sre'] } },
          wait: '300ms',
          webhooks: [
            { url: `${hookUrl}/json`, format: 'json' },
            { url: `${hookUrl}/slack`, format: 'slack' },
          ],
        },
        rateLimits: { enabled: false },
        // The webhook receiver listens on loopback, which the egress guard refuses by default.
        egress: { allowAddresses: ['127.0.0.1/32'] },
      },
      env: env as Record<string, string>,
      dataDir,
    });
    for (const [name, group] of [
      ['alice', 'eng'],
      ['bob', 'sre'],
    ] as const) {
      const added = await cli(['users', 'add', name, '--group', group, '--data-dir', gw.dataDir, '--password-stdin'], { input: `${PASSWORD}\n`, env });
      expect(added.code, added.stderr).toBe(0);
      browsers[name] = consoleBrowser(gw.url);
    }
    const a = await agentToken('Claude Code');
    const b = await agentToken('Another agent');
    [clientA, clientB] = [a.clientId, b.clientId];
    expect(clientA).not.toBe(clientB);
    agentA = await connectClient(gw, a.token);
    agentB = await connectClient(gw, b.token);
  });
  afterAll(() => new Promise<void>((resolve) => hook.close(() => resolve())));

  it('the console page, `approvals show`, the JSON and Slack webhooks and the audit record show the same exact arguments; approving releases exactly them', async () => {
    const long = `${'A'.repeat(60_000)}-middle-${'B'.repeat(60_000)}`;
    let nested: unknown = 'bottom';
    for (let i = 0; i < 30; i++) nested = { level: nested };
    // Parsed as the front door parses the agent's JSON: __proto__ is a key like any other.
    const args = JSON.parse(
      `{"__proto__":{"isAdmin":true},"constructor":{"prototype":1},"file":"invoice\\u202egpj.exe","who":"ad\\u200bmin","look":"\\u0430dmin","n":1e21,"s":"1e21","one":1,"oneStr":"1","f":0.30000000000000004,"long":"${long}","nested":${JSON.stringify(nested)}}`,
    ) as Record<string, unknown>;
    const first = await agentA.callTool({ name: 'delete_everything', arguments: args });
    const { id } = pendingOf(first);
    expect(pendingOf(first).status).toBe('pending');

    const shown = await show(id);
    expect(shown).toMatchObject({ argumentsIntegrity: 'exact', argumentsHidden: false, argsHash: hashArguments(args), client: clientA });
    const view = shown.argumentsText;
    // The view is the exact arguments: it parses back to them, and every surface shows it.
    expect(hashArguments(JSON.parse(view))).toBe(shown.argsHash);
    expect(hashArguments(shown.arguments)).toBe(shown.argsHash);
    const lines = view.split('\n').map((l) => l.replace(/,$/, ''));
    for (const line of [
      '  "__proto__": {',
      '    "isAdmin": true',
      '  "constructor": {',
      '  "file": "invoice\\u202egpj.exe"',
      '  "who": "ad\\u200bmin"',
      '  "look": "\\u0430dmin"',
      '  "n": 1e+21',
      '  "s": "1e21"',
      '  "one": 1',
      '  "oneStr": "1"',
      '  "f": 0.30000000000000004',
      `  "long": "${long}"`,
    ]) {
      expect(lines).toContain(line);
    }
    const human = await gatehouse(['approvals', 'show', id]);
    expect(human.stdout).toContain(
      view
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    );
    expect(human.stdout).toContain('These are the exact arguments the approval releases');
    const listed = await gatehouse(['approvals', 'list', '--json']);
    expect((JSON.parse(listed.stdout) as Shown[]).find((r) => r.id === id)?.argumentsText).toBe(view);

    const json = await hookFor(id, '/json');
    expect(json.body.approval).toMatchObject({ argumentsText: view, argumentsIntegrity: 'exact', argsHash: shown.argsHash, viewHash: shown.viewHash });
    expect(hashArguments(json.body.approval.arguments)).toBe(shown.argsHash);
    expect(Object.keys(json.body.approval.arguments as object)).toContain('__proto__');
    const slack = String((await hookFor(id, '/slack')).body.text);
    expect(slack).toContain('```{\n  "__proto__": {\n    "isAdmin": true\n  },');
    expect(slack).toMatch(new RegExp(`Arguments shortened here\\*: the first \\d+ of ${view.length} characters`));
    expect(slack).toContain(`<${gw.url}/console/approvals/${id}|full arguments in the console>`);

    const requested = auditRows(gw.dataDir).find((r) => r.kind === 'approval.requested' && (r.body.approval as { id: string }).id === id);
    // The audit record binds the exact arguments by hash and view hash; its copy of them is
    // bounded like every audit string (the 120 KB value is cut, and says so).
    expect(requested?.body.argsHash).toBe(shown.argsHash);
    expect((requested?.body.args as Record<string, unknown>).__proto__).toEqual({ isAdmin: true });
    expect(String((requested?.body.args as Record<string, unknown>).long)).toMatch(/…\[\d+ more chars\]$/);
    expect((requested?.body.approval as { arguments: Record<string, unknown> }).arguments).toMatchObject({ integrity: 'exact', viewHash: shown.viewHash });

    const page = await bobOpens(id);
    expect(pageArguments(page.html)).toBe(view);
    expect(page.html).not.toMatch(/[\u202e\u200b\u0430]/);

    expect(upstreamCalls().filter((c) => c.name === 'delete_everything')).toEqual([]);
    const approved = await decide(browsers.bob as Browser, gw.url, id, { csrf: csrfOf(page.html), decision: 'approve' });
    expect(approved.status).toBe(303);
    expect(text(await agentA.callTool({ name: 'delete_everything', arguments: args }))).toBe('ran delete_everything');
    const ran = upstreamCalls().filter((c) => c.name === 'delete_everything');
    expect(ran).toHaveLength(1);
    // The upstream received exactly the arguments that were shown and approved.
    expect(hashArguments(ran[0]?.arguments)).toBe(shown.argsHash);
    expect(Object.keys(ran[0]?.arguments ?? {})).toContain('__proto__');
  });

  it('a held credential in the arguments is masked and marked everywhere, and approving needs an explicit acknowledgement (console and CLI)', async () => {
    const args = { dsn: `postgres://app:${HELD}@db/prod`, table: 'orders' };
    const { id } = pendingOf(await agentA.callTool({ name: 'delete_everything', arguments: args }));
    const shown = await show(id);
    expect(shown).toMatchObject({
      argumentsIntegrity: 'masked',
      argumentsHidden: true,
      arguments: { dsn: 'postgres://app:[REDACTED:vault]@db/prod', table: 'orders' },
    });
    expect(shown.argumentsText).toBe('{\n  "dsn": "postgres://app:" + [REDACTED:vault] + "@db/prod",\n  "table": "orders"\n}');
    const human = await gatehouse(['approvals', 'show', id]);
    expect(human.stdout).toContain('arguments: WARNING: Some values are hidden');
    const json = await hookFor(id, '/json');
    expect(json.body.approval).toMatchObject({
      argumentsText: shown.argumentsText,
      argumentsHidden: true,
      cli: `gatehouse approvals approve ${id} --as <you> --acknowledge-hidden`,
    });
    expect(String((await hookFor(id, '/slack')).body.text)).toContain(':warning: Some values are hidden');

    const page = await bobOpens(id);
    expect(pageArguments(page.html)).toBe(shown.argumentsText);
    expect(page.html).toContain('<strong>Warning:</strong> Some values are hidden');
    expect(page.html).toContain('name="acknowledgeHidden"');
    const noAck = await decide(browsers.bob as Browser, gw.url, id, { csrf: csrfOf(page.html), decision: 'approve' });
    expect(noAck.status).toBe(400);
    expect(noAck.html).toContain('Nothing was decided: some arguments of request');
    const cliNoAck = await gatehouse(['approvals', 'approve', id, '--as', 'bob']);
    expect(cliNoAck.code).toBe(1);
    expect(cliNoAck.stderr).toContain('refused (hidden_arguments_not_acknowledged)');
    expect((await status(id)).status).toBe('pending');
    expect(pendingOf(await agentA.callTool({ name: 'delete_everything', arguments: args }))).toMatchObject({ id, status: 'pending' });

    const ok = await gatehouse(['approvals', 'approve', id, '--as', 'bob', '--acknowledge-hidden']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(text(await agentA.callTool({ name: 'delete_everything', arguments: args }))).toBe('ran delete_everything');
    expect(upstreamCalls().at(-1)?.arguments).toEqual(args);

    const rows = auditRows(gw.dataDir);
    expect(
      rows.filter((r) => r.kind === 'approval.refused' && (r.body.approval as { id: string }).id === id).map((r) => [r.body.via, r.body.outcome?.code]),
    ).toEqual([
      ['console', 'hidden_arguments_not_acknowledged'],
      ['cli', 'hidden_arguments_not_acknowledged'],
    ]);
    expect(rows.find((r) => r.kind === 'approval.decided' && (r.body.approval as { id: string }).id === id)?.body.approval).toMatchObject({
      arguments: { integrity: 'masked', hidden: true, acknowledgedHidden: true },
    });
    // The held value is nowhere but upstream: not in the audit log, the CLI, or any webhook.
    expect(rows.map((r) => r.rawBody).join('\n')).not.toContain(HELD);
    expect(JSON.stringify(hooked)).not.toContain(HELD);
    expect(human.stdout + JSON.stringify(shown)).not.toContain(HELD);
  });

  it('an approval releases the requesting client’s call only; another client of the same user needs its own, unless the approver says --any-client (audited)', async () => {
    const call = { name: 'delete_everything', arguments: { table: 'bound' } };
    const { id } = pendingOf(await agentA.callTool(call));
    expect((await show(id)).client).toBe(clientA);
    const approved = await gatehouse(['approvals', 'approve', id, '--as', 'bob']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`${id} approved by bob`);
    const fromB = pendingOf(await agentB.callTool(call));
    expect(fromB.status).toBe('pending');
    expect(fromB.id).not.toBe(id);
    expect(upstreamCalls().filter((c) => c.arguments.table === 'bound')).toEqual([]);
    await waitFor(
      () =>
        auditRows(gw.dataDir).find(
          (r) => r.kind === 'approval.refused' && r.body.outcome?.code === 'approval_other_client' && (r.body.approval as { id: string }).id === id,
        ),
      'the refusal naming the other client',
    );
    expect(text(await agentA.callTool(call))).toBe('ran delete_everything');
    expect(upstreamCalls().filter((c) => c.arguments.table === 'bound')).toHaveLength(1);

    const anyCall = { name: 'delete_everything', arguments: { table: 'any' } };
    const any = pendingOf(await agentA.callTool(anyCall));
    const released = await gatehouse(['approvals', 'approve', any.id, '--as', 'bob', '--any-client']);
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toContain(`${any.id} approved for any client by bob`);
    expect(text(await agentB.callTool(anyCall))).toBe('ran delete_everything');
    expect(pendingOf(await agentA.callTool(anyCall)).status).toBe('pending'); // used once, by B
    const rows = auditRows(gw.dataDir);
    expect(rows.find((r) => r.kind === 'approval.decided' && (r.body.approval as { id: string }).id === any.id)?.body.approval).toMatchObject({
      client: clientA,
      anyClient: true,
    });
    expect(rows.find((r) => r.kind === 'approval.decided' && (r.body.approval as { id: string }).id === id)?.body.approval).toMatchObject({
      client: clientA,
      anyClient: false,
    });
    expect(rows.find((r) => r.kind === 'approval.used' && (r.body.approval as { id: string }).id === any.id)?.body).toMatchObject({
      actor: { client: clientB },
      approval: { client: clientA, anyClient: true },
    });
    expect(rows.find((r) => r.kind === 'approval.used' && (r.body.approval as { id: string }).id === id)?.body).toMatchObject({
      actor: { client: clientA },
      approval: { client: clientA, anyClient: false },
    });
  });
});
