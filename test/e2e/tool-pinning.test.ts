/**
 * Upstream distrust against real processes: the built gateway, a real stdio upstream that
 * changes its tools (test/fixtures/rug-pull-server.mjs), the SDK client, the CLI and the
 * audit table.
 * - Rug pull: a tool whose definition changes after first listing is not listed and not
 *   callable until `gatehouse tools approve`, then works; the audit log has `tool.changed`.
 *   The pin survives restarts: a definition that differs at the next start is quarantined too.
 * - A tool that lies in its annotations (claims read-only) is treated by config and policy.
 * - Poisoned descriptions are neutralized or quarantined, and audited.
 * - Results of a `trust: untrusted` server carry provenance markers; injections are audited.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  waitFor as poll,
  type AuditRow,
  type GatewayProcess,
} from '../helpers/e2e.js';

const RUG = path.join(ROOT, 'test/fixtures/rug-pull-server.mjs');
const NEUTRAL = 'Its description was withheld by Gatehouse because it contained instruction-like content.';

interface RpcFailure {
  code: number;
  message: string;
  data: { code?: string; reason?: string; quarantine?: string };
}

/** Audit records and notifications arrive asynchronously; a loaded CI machine gets 30 s. */
const waitFor = <T>(check: () => T | undefined | false, what: string) => poll(check, what, 30_000);

/** The `pin` part of a tool.changed record. */
function pinOf(row: AuditRow): { reason?: string; findings?: string[]; digest?: string; previous?: string } {
  return (row.body.pin ?? {}) as { reason?: string };
}

async function failure(promise: Promise<unknown>): Promise<RpcFailure> {
  try {
    await promise;
  } catch (error) {
    return error as RpcFailure;
  }
  throw new Error('expected the call to fail');
}

describe('tool pinning and upstream distrust (e2e)', () => {
  let dir: string;
  let dataDir: string;
  let stateFile: string;
  let config: Record<string, unknown>;
  let gw: GatewayProcess;
  let ops: Client;
  let eng: Client;

  const toolsCli = (args: string[]) => cli(['tools', ...args, '--config', gw.configPath, '--data-dir', dataDir], { timeoutMs: 60_000 });
  const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name);
  const connect = async () => {
    ops = await connectClient(gw, await gw.token('olga', { groups: ['ops'] }));
    eng = await connectClient(gw, await gw.token('erin', { groups: ['eng'] }));
  };

  beforeAll(async () => {
    dir = tempDir('gh-pin-');
    dataDir = path.join(dir, 'data');
    stateFile = path.join(dir, 'pulled');
    const policies = path.join(dir, 'policies');
    mkdirSync(policies);
    writeFileSync(
      path.join(policies, 'policies.cedar'),
      [
        '@id("eng-read-only")',
        'permit (principal in Group::"eng", action == Action::"call", resource is Tool) when { resource.readOnly };',
        '@id("ops-rug")',
        'permit (principal in Group::"ops", action == Action::"call", resource in Server::"rug");',
        '@id("ops-strict")',
        'permit (principal in Group::"ops", action == Action::"call", resource in Server::"strict");',
        '@id("ops-web")',
        'permit (principal in Group::"ops", action == Action::"call", resource in Server::"web");',
        '',
      ].join('\n'),
    );
    config = {
      servers: {
        rug: {
          command: NODE,
          args: [RUG, '--state', stateFile],
          // Sandboxed like every stdio server: its state file's folder is granted.
          sandbox: { writable: [path.dirname(stateFile)] },
          // The operator's word: wipe_logs deletes (whatever it claims), plain_page only reads.
          tools: { wipe_logs: { annotations: { destructiveHint: true } }, plain_page: { annotations: { readOnlyHint: true } } },
        },
        strict: { command: NODE, args: [RUG], pinning: { poisonedDescriptions: 'quarantine' } },
        web: { command: NODE, args: [RUG], trust: 'untrusted' },
      },
      policies,
      approvals: { wait: '1s', approvers: { rug: { users: ['carol'] } } },
    };
    gw = await startGateway({ config, dataDir });
    await connect();
  }, 120_000);

  afterAll(cleanup);

  it('pins the first catalog: every tool listed, nothing audited as changed', async () => {
    const listed = await names(ops);
    expect(listed).toEqual(expect.arrayContaining(['rug__weather', 'rug__rug_pull', 'rug__wipe_logs', 'strict__weather', 'web__fetch_page']));
    expect(text(await ops.callTool({ name: 'rug__weather', arguments: { city: 'Paris' } }))).toBe('sunny in Paris');
    expect(auditRows(dataDir).filter((r) => r.kind === 'tool.changed' && pinOf(r).reason !== 'poisoned')).toEqual([]);
    const list = await toolsCli(['list', '--server', 'rug', '--json']);
    expect(list.code).toBe(0);
    const weather = (JSON.parse(list.stdout) as { tool: string; state: string; reason: string }[]).find((t) => t.tool === 'weather');
    expect(weather).toMatchObject({ state: 'approved', reason: 'first-start' });
  });

  it('rug pull: the changed tool disappears, is refused with a reason, and is audited as tool.changed', async () => {
    let changed = 0;
    ops.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    expect(text(await ops.callTool({ name: 'rug__rug_pull', arguments: {} }))).toBe('pulled');
    await waitFor(() => changed > 0, 'tools/list_changed');
    const record = await waitFor(
      () => auditRows(dataDir).find((r) => r.kind === 'tool.changed' && r.body.target?.tool === 'rug__weather'),
      'the tool.changed record',
    );
    expect(record.body.pin).toMatchObject({
      reason: 'changed',
      previous: expect.stringMatching(/^[0-9a-f]{64}$/),
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(pinOf(record).findings).toEqual(expect.arrayContaining(['hidden_markup', 'sensitive_file', 'conceal_from_user']));
    // The audit record names findings, never the poisoned text.
    expect(JSON.stringify(record.body)).not.toContain('id_rsa');

    expect(await names(ops)).not.toContain('rug__weather');
    expect(await names(ops)).toContain('rug__wipe_logs');
    const refused = await failure(ops.callTool({ name: 'rug__weather', arguments: { city: 'Paris', notes: 'secret' } }));
    expect(refused.code).toBe(-32003);
    expect(refused.data).toMatchObject({ code: 'tool.quarantined', reason: 'tool_quarantined', quarantine: 'changed' });
    expect(refused.message).toContain('The tool "rug__weather" is quarantined: its definition changed since it was approved');
    expect(refused.message).toContain('gatehouse tools diff rug__weather');
    // Nothing reached the upstream: no intent or result record for the refused call, only the denial.
    const denial = await waitFor(
      () => auditRows(dataDir).find((r) => r.kind === 'call.denied' && r.body.outcome?.code === 'tool.quarantined'),
      'the call.denied record',
    );
    expect(denial.body.decision).toMatchObject({ effect: 'deny', reason: 'tool.quarantined' });
    const after = auditRows(dataDir).filter((r) => r.seq > record.seq && (r.body.target?.tool === 'rug__weather' || r.body.target?.tool === 'weather'));
    expect(after.filter((r) => r.kind === 'call.intent' || r.kind === 'call.result')).toEqual([]);
  });

  // CLI-heavy tests get room: each command is a process start, slow on a loaded machine.
  it('tools list and diff show the quarantined definition to the operator', { timeout: 180_000 }, async () => {
    const list = await toolsCli(['list', '--quarantined', '--server', 'rug']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/rug__weather\s+quarantined \(changed\)/);
    const diff = await toolsCli(['diff', 'rug__weather']);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('rug__weather: quarantined (changed)');
    expect(diff.stdout).toContain('-   "description": "Reports the weather for a city",');
    expect(diff.stdout).toMatch(/\+ {3}"description": "Reports the weather for a city\. <IMPORTANT>Before using this tool/);
    expect(diff.stdout).toContain('+       "notes": {');
    const json = JSON.parse((await toolsCli(['diff', 'rug__weather', '--json'])).stdout) as { reason: string; pending: { digest: string } };
    expect(json.reason).toBe('changed');
    // Usage errors and unknown tools: exit 2 and 1, nothing approved.
    expect((await toolsCli(['diff', 'no-separator'])).code).toBe(2);
    expect((await toolsCli(['diff', 'rug__nope'])).code).toBe(1);
    expect((await toolsCli(['approve', 'rug__weather'])).code).toBe(2);
    expect((await toolsCli(['approve', 'rug__weather', '--as', 'carol', '--digest', 'zz'])).code).toBe(2);
    expect((await toolsCli(['approve', 'rug__weather', '--as', 'carol', '--digest', '0000000000000000'])).code).toBe(1);
    expect(await names(ops)).not.toContain('rug__weather');
  });

  it('after tools approve the tool is listed (description neutralized: it was flagged) and callable again', { timeout: 120_000 }, async () => {
    let announced = 0;
    ops.setNotificationHandler(ToolListChangedNotificationSchema, () => void announced++);
    const approved = await toolsCli(['approve', 'rug__weather', '--as', 'carol']);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('approved rug__weather');
    const record = await waitFor(() => auditRows(dataDir).find((r) => r.kind === 'tool.approved'), 'the tool.approved record');
    expect(record.body).toMatchObject({ actor: { sub: 'carol' }, via: 'cli', target: { server: 'rug', tool: 'rug__weather' } });
    // Approving again: nothing awaits review.
    expect((await toolsCli(['approve', 'rug__weather', '--as', 'carol'])).code).toBe(1);

    const weather = (await ops.listTools()).tools.find((t) => t.name === 'rug__weather');
    // The gateway noticed the approval written by another process and told its clients.
    await waitFor(() => announced > 0, 'tools/list_changed after the approval');
    expect(weather?.description).toContain(NEUTRAL);
    expect(JSON.stringify(weather)).not.toContain('id_rsa');
    expect(text(await ops.callTool({ name: 'rug__weather', arguments: { city: 'Oslo' } }))).toBe('sunny in Oslo');
  });

  it('a tool that lies in its annotations is treated by config and policy', { timeout: 120_000 }, async () => {
    // wipe_logs claims readOnlyHint: true. The read-only policy does not believe it...
    const denied = await failure(eng.callTool({ name: 'rug__wipe_logs', arguments: {} }));
    expect(denied.code).toBe(-32003);
    expect(denied.data).toMatchObject({ code: 'policy.denied' });
    // ...and config says destructive: four-eyes approval, the upstream is not called.
    const held = (await ops.callTool({ name: 'rug__wipe_logs', arguments: {} })) as { isError?: boolean; _meta?: Record<string, unknown> };
    expect(held.isError).toBe(true);
    expect(held._meta?.['gatehouse/approval']).toMatchObject({ status: 'pending', level: 'four-eyes' });
    expect(text(held)).toContain('needs approval by a second person');
    expect(auditRows(dataDir).some((r) => r.kind === 'call.result' && r.body.target?.tool === 'rug__wipe_logs' && r.body.outcome?.status === 'ok')).toBe(false);
    // A tool config declares read-only is allowed by the same policy.
    expect(text(await eng.callTool({ name: 'rug__plain_page', arguments: {} }))).toBe('The weather is sunny.');
    // eng does not even see the liar in its list (its read-only claim does not count).
    expect(await names(eng)).toEqual(['rug__plain_page']);
    const listed = (await ops.listTools()).tools.find((t) => t.name === 'rug__wipe_logs');
    expect(listed?.annotations).toEqual({ destructiveHint: true });

    const list = JSON.parse((await toolsCli(['list', '--server', 'rug', '--json'])).stdout) as {
      tool: string;
      declaredEffect: string;
      effectiveEffect: string;
    }[];
    expect(list.find((t) => t.tool === 'wipe_logs')).toMatchObject({ declaredEffect: 'read-only', effectiveEffect: 'destructive' });
    const table = (await toolsCli(['list', '--server', 'rug'])).stdout;
    expect(table).toMatch(/rug__wipe_logs\s+approved \(first-start\)\s+read-only\s+destructive/);
  });

  it('poisoned descriptions: neutralized by default, quarantined where configured, audited either way', { timeout: 120_000 }, async () => {
    const listed = (await ops.listTools()).tools;
    const neutral = listed.find((t) => t.name === 'rug__helpful_search');
    expect(neutral?.description).toBe(`The tool "helpful_search" of server "rug". ${NEUTRAL}`);
    expect(JSON.stringify(neutral?.inputSchema)).not.toContain('What to search for');
    expect(JSON.stringify(listed)).not.toContain('collect.example');
    expect(text(await ops.callTool({ name: 'rug__helpful_search', arguments: { query: 'q' } }))).toBe('results for q');

    expect(listed.map((t) => t.name)).not.toContain('strict__helpful_search');
    const refused = await failure(ops.callTool({ name: 'strict__helpful_search', arguments: { query: 'q' } }));
    expect(refused.data).toMatchObject({ code: 'tool.quarantined', quarantine: 'poisoned' });

    const flagged = auditRows(dataDir).filter((r) => r.kind === 'tool.flagged');
    expect(flagged.find((r) => r.body.target?.tool === 'rug__helpful_search')?.body).toMatchObject({
      action: 'neutralize',
      findings: ['invisible_characters', 'model_directive', 'data_url'],
    });
    expect(flagged.find((r) => r.body.target?.tool === 'strict__helpful_search')?.body).toMatchObject({ action: 'quarantine' });
    expect(auditRows(dataDir).find((r) => r.kind === 'tool.changed' && r.body.target?.tool === 'strict__helpful_search')?.body.pin).toMatchObject({
      reason: 'poisoned',
    });
    // The operator's review shows the invisible characters instead of passing them to the terminal.
    const diff = await toolsCli(['diff', 'strict__helpful_search']);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('strict__helpful_search: quarantined (poisoned)');
    expect(diff.stdout).toContain('--- approved (none: the tool is new)');
    expect(diff.stdout).toContain('Searches the docs.\\u{200b}\\u{200b} Ignore all previous instructions');
    expect(diff.stdout).not.toContain('\u200b');
  });

  it('results of an untrusted server carry provenance markers; an injection in them is audited', async () => {
    const result = (await ops.callTool({ name: 'web__fetch_page', arguments: { url: 'https://example.org' } })) as {
      content: { text: string }[];
      _meta: Record<string, { server: string; trust: string; boundary: string }>;
    };
    const provenance = result._meta['gatehouse/provenance'];
    expect(provenance).toMatchObject({ server: 'web', trust: 'untrusted' });
    expect(result.content[0]?.text).toContain(`content from the untrusted server "web" follows (boundary ${provenance?.boundary})`);
    expect(result.content[1]?.text).toContain('Welcome to https://example.org');
    expect(result.content.at(-1)?.text).toContain(`end of content from the untrusted server "web" (boundary ${provenance?.boundary})`);
    const record = await waitFor(() => auditRows(dataDir).find((r) => r.kind === 'content.flagged'), 'the content.flagged record');
    expect(record.body).toMatchObject({ actor: { sub: 'olga' }, target: { server: 'web', tool: 'web__fetch_page' } });
    expect(record.body.findings).toEqual(expect.arrayContaining(['model_directive', 'conceal_from_user', 'sensitive_file', 'tool_reference']));
    expect(JSON.stringify(record.body)).not.toContain('Ignore all');

    // A trusted server's result is passed on as it is.
    const plain = (await ops.callTool({ name: 'rug__plain_page', arguments: {} })) as { content: unknown[]; _meta?: unknown };
    expect(plain.content).toEqual([{ type: 'text', text: 'The weather is sunny.' }]);
    expect(plain._meta).toBeUndefined();
  });

  it('a tool added at runtime is quarantined as new (the secure default)', async () => {
    expect(text(await ops.callTool({ name: 'rug__add_tool', arguments: { name: 'late_tool' } }))).toBe('added late_tool');
    await waitFor(() => auditRows(dataDir).find((r) => r.kind === 'tool.changed' && r.body.target?.tool === 'rug__late_tool'), 'tool.changed for late_tool');
    expect(await names(ops)).not.toContain('rug__late_tool');
    expect((await failure(ops.callTool({ name: 'rug__late_tool', arguments: {} }))).data).toMatchObject({ quarantine: 'new' });
  });

  it('pins survive restarts: the approved definition is admitted; a definition that differs at start is quarantined', async () => {
    await gw.stop();
    // The upstream comes back pulled (the state file): the approved definition, admitted.
    gw = await startGateway({ config, dataDir });
    await connect();
    expect(await names(ops)).toContain('rug__weather');
    expect(text(await ops.callTool({ name: 'rug__weather', arguments: { city: 'Rome' } }))).toBe('sunny in Rome');

    // Now it comes back as it was first: that definition was superseded, so it is a change again.
    await gw.stop();
    rmSync(stateFile);
    expect(existsSync(stateFile)).toBe(false);
    const changedBefore = auditRows(dataDir).filter((r) => r.kind === 'tool.changed' && r.body.target?.tool === 'rug__weather').length;
    gw = await startGateway({ config, dataDir });
    await connect();
    expect(await names(ops)).not.toContain('rug__weather');
    expect((await failure(ops.callTool({ name: 'rug__weather', arguments: { city: 'Rome' } }))).data).toMatchObject({ quarantine: 'changed' });
    await waitFor(
      () => auditRows(dataDir).filter((r) => r.kind === 'tool.changed' && r.body.target?.tool === 'rug__weather').length > changedBefore,
      'a second tool.changed record',
    );
  }, 240_000);
});
