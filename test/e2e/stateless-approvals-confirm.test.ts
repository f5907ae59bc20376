/**
 * The confirm tier for stateless (2026-07-28) clients: without a session there is no stream to
 * send Gatehouse's URL-mode elicitation on, so it travels as an InputRequiredResult. The client
 * opens the approval page; its "accept" confirms nothing; the person confirming (page, console
 * or CLI) releases exactly the call that waits, which the client's retry then receives.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, cleanup, cli, MCP_HEADERS, NODE, ROOT, rawHttp, rpcMessages, startGateway, tempDir, waitFor, type GatewayProcess } from '../helpers/e2e.js';

const RECORDER = path.join(ROOT, 'test/fixtures/recording-server.mjs');
const CONFIRM_POLICY =
  '@id("confirmers-add")\n@approval("confirm")\npermit(principal in Group::"confirmers", action == Action::"call", resource == Tool::"echo__add");\n';
const MODERN = '2026-07-28';

afterAll(cleanup);

describe('confirm tier, stateless: URL-mode elicitation as an InputRequiredResult', () => {
  let gw: GatewayProcess;
  let dora: string;
  let calls: () => { name: string; arguments: Record<string, unknown> }[];

  beforeAll(async () => {
    const root = tempDir('gh-apr-stateless-');
    const policies = path.join(root, 'policies');
    cpSync(path.join(ROOT, 'examples/policies'), policies, { recursive: true });
    writeFileSync(path.join(policies, '60-confirm.cedar'), CONFIRM_POLICY);
    const record = path.join(root, 'calls.jsonl');
    gw = await startGateway({
      config: {
        servers: { echo: { command: NODE, args: [RECORDER, record], sandbox: { writable: [root] } } },
        policies,
        approvals: { wait: '20s' },
        rateLimits: { enabled: false },
      },
    });
    calls = () =>
      existsSync(record)
        ? readFileSync(record, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { name: string; arguments: Record<string, unknown> })
        : [];
    dora = await gw.token('dora', { groups: ['confirmers'] });
  });

  it('the 2.x client is sent to the approval page; only the confirmation releases the call, which its retry receives, once', async () => {
    const client = new Client({ name: 'sdk-2', version: '2.4.0' }, { capabilities: { elicitation: { url: {} } }, versionNegotiation: { mode: 'auto' } });
    const asked: Record<string, unknown>[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(request.params as Record<string, unknown>);
      // The client "opens" the page and says yes at once: that alone must not run anything.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(calls().filter((c) => c.name === 'add')).toEqual([]);
      const id = String((request.params as { url?: unknown }).url)
        .split('/')
        .pop() as string;
      const confirmed = await cli(['approvals', 'approve', id, '--as', 'dora', '--config', gw.configPath, '--data-dir', gw.dataDir]);
      expect(confirmed.code, confirmed.stderr).toBe(0);
      return { action: 'accept' };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${dora}` } } }));
    try {
      const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }, { timeout: 30_000 });
      expect(result.content).toEqual([{ type: 'text', text: 'ran add' }]);
    } finally {
      await client.close();
    }
    expect(asked).toHaveLength(1);
    const id = String(asked[0]?.url).split('/').pop() as string;
    expect(asked[0]).toMatchObject({ mode: 'url', url: `${gw.url}/console/approvals/${id}` });
    // The stateless revision has no elicitationId (nor the completion notification it correlated).
    expect(asked[0]).not.toHaveProperty('elicitationId');
    expect(calls().filter((c) => c.name === 'add')).toEqual([{ name: 'add', arguments: { a: 2, b: 40 } }]);
    await waitFor(
      () => auditRows(gw.dataDir).filter((r) => r.kind === 'approval.used' && (r.body.approval as { id: string }).id === id).length === 1,
      'one use',
    );
  });

  it('raw: a retry whose state was issued for other arguments releases nothing, and the held call stays unexecuted', async () => {
    const post = (params: Record<string, unknown>, id: number) =>
      rawHttp(gw.mcpUrl, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${dora}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'add' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: {
            ...params,
            _meta: {
              'io.modelcontextprotocol/protocolVersion': MODERN,
              'io.modelcontextprotocol/clientCapabilities': { elicitation: { url: {} } },
            },
          },
        }),
      });
    const first = rpcMessages(await post({ name: 'add', arguments: { a: 1, b: 1 } }, 1))[0] as {
      result: { resultType: string; inputRequests: Record<string, { params: { url: string } }>; requestState: string };
    };
    expect(first.result.resultType).toBe('input_required');
    const [key, request] = Object.entries(first.result.inputRequests)[0] as [string, { params: { url: string } }];
    const id = request.params.url.split('/').pop() as string;
    // Approve the held call, then present its state on a call with other arguments.
    expect((await cli(['approvals', 'approve', id, '--as', 'dora', '--config', gw.configPath, '--data-dir', gw.dataDir])).code).toBe(0);
    const swapped = await post(
      { name: 'add', arguments: { a: 1000, b: 1 }, inputResponses: { [key]: { action: 'accept' } }, requestState: first.result.requestState },
      2,
    );
    expect(swapped.status).toBe(400);
    expect(rpcMessages(swapped)[0]).toMatchObject({ error: { code: -32602, data: { code: 'mcp.request_state_invalid', reason: 'wrong_request' } } });
    expect(calls().filter((c) => c.name === 'add' && c.arguments.a === 1000)).toEqual([]);
    const done = await post(
      { name: 'add', arguments: { a: 1, b: 1 }, inputResponses: { [key]: { action: 'accept' } }, requestState: first.result.requestState },
      3,
    );
    expect(rpcMessages(done).at(-1)).toMatchObject({ result: { content: [{ type: 'text', text: 'ran add' }] } });
    expect(calls().filter((c) => c.name === 'add' && c.arguments.a === 1)).toEqual([{ name: 'add', arguments: { a: 1, b: 1 } }]);
  });
});
