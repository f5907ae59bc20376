import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, cleanup, connectClient, rawCall, startGateway, STARTER_POLICIES, text, waitFor, type GatewayProcess } from '../helpers/policy-e2e.js';

afterAll(cleanup);

describe('Cedar policies in a running gateway', () => {
  let gw: GatewayProcess;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    gw = await startGateway({ rateLimits: { tools: { echo__echo: { burst: '3/m' } } } }, { policies: STARTER_POLICIES });
    alice = await gw.token('alice', ['eng']);
    bob = await gw.token('bob', ['qa']);
  });

  it('hides what a user may not use, and refuses it when called directly by name — with reason and policy ids, audited', async () => {
    const client = await connectClient(gw, bob);
    expect((await client.listTools()).tools).toEqual([]);
    const error = await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: -32003, data: { code: 'policy.denied', reason: 'not_allowed', policy: 'default-deny' } });
    expect((error as McpError).message).toContain('You are not allowed to call the tool "echo__add".');
    // The exact JSON-RPC error a client receives.
    expect(await rawCall(gw, bob, 'tools/call', { name: 'add', arguments: { a: 1, b: 2 } })).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: {
        code: -32003,
        message: 'You are not allowed to call the tool "echo__add".',
        data: { code: 'policy.denied', reason: 'not_allowed', policy: 'default-deny' },
      },
    });
    // An empty list is "not yet": denials are written lazily (within milliseconds), not before the answer.
    const denied = await waitFor(() => {
      const rows = auditRows(gw.dataDir).filter((r) => r.kind === 'call.denied' && r.body.actor.sub === 'bob');
      return rows.length > 0 ? rows : undefined;
    }, 'denials in the audit log');
    expect(denied[0]?.body).toMatchObject({
      target: { server: 'echo', tool: 'echo__add' },
      decision: { effect: 'deny', reason: 'not_allowed', policy: 'default-deny' },
      outcome: { status: 'denied' },
    });
    expect(auditRows(gw.dataDir).some((r) => r.kind === 'call.intent' && r.body.actor.sub === 'bob')).toBe(false);
  });

  it('lets eng call the echo server, lists the tools eng may use, and says which policy decided', async () => {
    const client = await connectClient(gw, alice);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toContain('add');
    expect(names).toContain('delete_everything'); // usable with approval: listed
    expect(text(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }))).toBe('5');
    const intent = await waitFor(() => auditRows(gw.dataDir).find((r) => r.kind === 'call.intent' && r.body.target.tool === 'echo__add'), 'the intent record');
    expect(intent.body.decision).toEqual({ effect: 'allow', policy: 'eng-call-echo' });
  });

  it('refuses arguments that fail the input schema with -32602 before policy; nothing reaches the upstream', async () => {
    const client = await connectClient(gw, alice);
    const error = await client.callTool({ name: 'add', arguments: { a: 'two' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: -32602, data: { code: 'mcp.invalid_arguments', reason: 'invalid_arguments' } });
    expect((error as McpError).message).toContain(
      'Invalid arguments for tool "echo__add": arguments must have required property \'b\'; arguments.a must be number.',
    );
    const rows = await waitFor(() => {
      const r = auditRows(gw.dataDir).filter((x) => x.body.outcome?.code === 'mcp.invalid_arguments');
      return r.length > 0 ? r : undefined;
    }, 'the refusal in the audit log');
    expect(rows[0]).toMatchObject({ kind: 'call.denied', body: { args: { a: 'two' }, decision: { reason: 'invalid_arguments' } } });
    expect(auditRows(gw.dataDir).some((r) => r.kind === 'call.intent' && r.body.args?.a === 'two')).toBe(false);
  });

  it('refuses unknown methods (-32601), audited', async () => {
    expect(await rawCall(gw, alice, 'approvals/approve', { id: 'apr_x' })).toMatchObject({
      error: { code: -32601, message: 'Method not found: approvals/approve' },
    });
    await waitFor(
      () => auditRows(gw.dataDir).find((r) => r.kind === 'call.denied' && r.body.method === 'approvals/approve'),
      'the unknown method in the audit log',
    );
  });

  it('rate-limits per user and tool: a clear error with retryAfterMs, audited', async () => {
    const client = await connectClient(gw, alice);
    for (let i = 0; i < 3; i++) expect(text(await client.callTool({ name: 'echo', arguments: { text: `hi ${i}` } }))).toBe(`hi ${i}`);
    const error = (await client.callTool({ name: 'echo', arguments: { text: 'one too many' } }).catch((e: unknown) => e)) as McpError & {
      data: Record<string, unknown>;
    };
    expect(error).toMatchObject({ code: -32013, data: { code: 'rate.limited', reason: 'rate_limited', limit: 'tool.burst' } });
    expect(error.data.retryAfterMs).toBeGreaterThan(1000);
    expect(error.message).toContain('Rate limit exceeded: at most 3 calls per minute to "echo__echo" per user. Retry after');
    await waitFor(
      () => auditRows(gw.dataDir).find((r) => r.kind === 'call.denied' && r.body.decision?.reason === 'rate_limited'),
      'the rate-limit denial in the audit log',
    );
  });

  it('hot reload: a broken policy file is refused and the old policies stay in force (shown by status); a fixed one is swapped in', async () => {
    const client = await connectClient(gw, bob);
    writeFileSync(
      path.join(gw.policiesDir, '60-qa.cedar'),
      '@id("qa-echo")\npermit(principal in Group::"qa", action == Action::"call" resource in Server::"echo");\n',
    );
    const refused = await waitFor(() => auditRows(gw.dataDir).find((r) => r.kind === 'policy.reload_refused'), 'the refused reload');
    expect(refused.body.policies.problems[0]).toMatch(/^60-qa\.cedar:2:\d+: /);
    expect(gw.logs().some((l) => l.msg === 'policy reload refused: the previous policies stay in force')).toBe(true);
    // Old policies in force: alice still allowed, bob still denied.
    expect(text(await (await connectClient(gw, alice)).callTool({ name: 'add', arguments: { a: 1, b: 1 } }))).toBe('2');
    await expect(client.callTool({ name: 'add', arguments: { a: 1, b: 1 } })).rejects.toMatchObject({ code: -32003 });
    const status = await gw.cli(['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('RELOAD REFUSED');
    expect(status.stdout).toMatch(/60-qa\.cedar:2:\d+: /);

    writeFileSync(
      path.join(gw.policiesDir, '60-qa.cedar'),
      '@id("qa-echo")\npermit(principal in Group::"qa", action == Action::"call", resource in Server::"echo");\n',
    );
    await waitFor(() => auditRows(gw.dataDir).find((r) => r.kind === 'policy.reloaded'), 'the reload');
    expect(text(await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } }))).toBe('2');
    const healthy = await gw.cli(['status', '--json']);
    expect(healthy.code).toBe(0);
    expect(JSON.parse(healthy.stdout)).toMatchObject({ policies: { mode: 'cedar' } });
    expect(JSON.parse(healthy.stdout).policies.error).toBeUndefined();
  });

  it('policy explain reads the live catalog: the upstream says delete_everything is destructive', async () => {
    const recordsBefore = auditRows(gw.dataDir).length;
    const result = await gw.cli(['policy', 'explain', '--user', 'alice', '--groups', 'eng', '--tool', 'echo__delete_everything', '--args', '{}']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^decision: require_approval \(four-eyes\): deny until a second person approves, then allow once/);
    expect(result.stdout).toContain('"destructive":true');
    expect(result.stdout).toContain('note: annotations and input schema from the live catalog of "echo"');
    const invalid = await gw.cli(['policy', 'explain', '--user', 'alice', '--groups', 'eng', '--tool', 'echo__add', '--args', '{"a":"x"}']);
    expect(invalid.stdout).toMatch(/^decision: deny\nreason: {3}invalid_arguments/);
    const denied = await gw.cli(['policy', 'explain', '--user', 'bob', '--tool', 'echo__echo', '--args', '{"text":"x"}', '--json']);
    expect(JSON.parse(denied.stdout)).toMatchObject({ decision: 'deny', reason: 'not_allowed' });
    // Explaining is read-only: no policy load or anything else lands in the audit log.
    expect(
      auditRows(gw.dataDir)
        .slice(recordsBefore)
        .filter((r) => r.kind.startsWith('policy.')),
    ).toEqual([]);
  });
});
