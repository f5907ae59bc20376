import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  cleanup,
  cli,
  ECHO_SERVER,
  type GatewayProcess,
  MCP_HEADERS,
  NODE,
  openRawSession,
  rawHttp,
  rpcMessages,
  startGateway,
  waitFor,
} from '../helpers/e2e.js';

/*
 * Every call leaves an audit record, whatever JSON the client sends. Arguments that cannot be
 * recorded exactly — nested past canonical JSON's depth, or holding a number JSON cannot
 * represent (a client's 1e400 parses as Infinity) — are refused with JSON-RPC -32602 and the
 * stable code mcp.invalid_arguments, nothing reaches the upstream, and the audit log holds a
 * call.denied record for each. The bodies are written out by hand: JSON.stringify cannot say
 * 1e400.
 */

const nested = (depth: number, leaf: string) => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
const nestedObjects = (depth: number, leaf: string) => `${'{"k":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

interface RpcError {
  code: number;
  message: string;
  data?: { code?: string; reason?: string; problem?: string };
}

describe('describing a call is total: refused arguments are answered and audited', () => {
  let gw: GatewayProcess;
  let token: string;
  let sid: string;
  let id = 1;

  beforeAll(async () => {
    gw = await startGateway({
      config: {
        servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
        access: [{ allow: { users: ['alice'], servers: ['echo'] } }],
        rateLimits: { enabled: false },
      },
    });
    token = await gw.token('alice');
    sid = await openRawSession(gw, token);
  }, 120_000);
  afterAll(cleanup);

  async function send(method: string, paramsText: string): Promise<{ status: number; error?: RpcError; result?: Record<string, unknown> }> {
    const response = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
      body: `{"jsonrpc":"2.0","id":${id++},"method":"${method}","params":${paramsText}}`,
    });
    const messages = rpcMessages(response);
    const last = messages[messages.length - 1] as { error?: RpcError; result?: Record<string, unknown> } | undefined;
    return { status: response.status, ...last };
  }

  /** The call.denied record whose recorded arguments carry `marker`. */
  async function deniedRecord(marker: string) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const row = auditRows(gw.dataDir).find((r) => r.kind === 'call.denied' && (r.body.args as { marker?: unknown } | undefined)?.marker === marker);
      if (row) return row;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no call.denied record for ${marker}`);
  }

  const REFUSED: [string, string, 'too_deep' | 'non_finite_number'][] = [
    ['arrays nested 100 deep', nested(100, '1'), 'too_deep'],
    ['objects nested 10 000 deep', nestedObjects(10_000, '"x"'), 'too_deep'],
    ['arrays nested 100 000 deep', nested(100_000, '0'), 'too_deep'],
    ['1e400', '1e400', 'non_finite_number'],
    ['-1e400', '-1e400', 'non_finite_number'],
    ['1e400 inside an array', '[1,2,1e400]', 'non_finite_number'],
    ['1e400 ten levels down', nestedObjects(10, '1e400'), 'non_finite_number'],
    ['1e400 past the depth limit', nested(200, '1e400'), 'too_deep'],
  ];

  for (const [name, value, problem] of REFUSED) {
    it(`tools/call with ${name}: -32602 mcp.invalid_arguments, nothing forwarded, call.denied recorded`, async () => {
      const marker = `case ${name}`;
      const answer = await send('tools/call', `{"name":"echo","arguments":{"marker":"${marker}","text":"hi","value":${value}}}`);
      expect(answer.status).toBe(200);
      expect(answer.result).toBeUndefined();
      expect(answer.error).toMatchObject({ code: -32602, data: { code: 'mcp.invalid_arguments', reason: 'invalid_arguments', problem } });
      expect(answer.error?.message).toMatch(/Gatehouse refuses calls it cannot record exactly/);
      const row = await deniedRecord(marker);
      expect(row.body).toMatchObject({
        actor: { sub: 'alice' },
        method: 'tools/call',
        target: { server: 'echo', tool: 'echo__echo' },
        decision: { effect: 'deny', reason: 'invalid_arguments' },
        outcome: { status: 'denied', code: 'mcp.invalid_arguments' },
      });
      expect(row.body.argsHash).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
      const requestId = row.body.requestId as string;
      expect(
        auditRows(gw.dataDir)
          .filter((r) => r.body.requestId === requestId)
          .map((r) => r.kind),
      ).toEqual(['call.denied']);
    });
  }

  it('prompts/get and completion/complete with such arguments are refused and recorded the same way', async () => {
    const prompt = await send('prompts/get', '{"name":"greet","arguments":{"marker":"prompt","name":1e400}}');
    expect(prompt.error).toMatchObject({ code: -32602, data: { code: 'mcp.invalid_arguments', problem: 'non_finite_number' } });
    expect((await deniedRecord('prompt')).body).toMatchObject({ method: 'prompts/get', outcome: { code: 'mcp.invalid_arguments' } });
    const completion = await send(
      'completion/complete',
      `{"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"name","value":"a"},"context":{"arguments":${nested(100, '1')}}}`,
    );
    expect(completion.error).toMatchObject({ code: -32602, data: { code: 'mcp.invalid_arguments', problem: 'too_deep' } });
    const rows = await waitFor(() => {
      const found = auditRows(gw.dataDir).filter((r) => r.kind === 'call.denied' && r.body.method === 'completion/complete');
      return found.length > 0 && found;
    }, 'the completion/complete refusal record');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.body.outcome).toMatchObject({ code: 'mcp.invalid_arguments' });
  });

  it('a call to an unknown tool with such arguments is refused as unknown, and still recorded', async () => {
    const answer = await send('tools/call', `{"name":"no_such_tool","arguments":{"marker":"unknown","n":1e400,"d":${nested(5000, '1')}}}`);
    expect(answer.error).toMatchObject({ code: -32602, data: { code: 'mcp.unknown_tool' } });
    const row = await deniedRecord('unknown');
    expect(row.body).toMatchObject({ target: { tool: 'no_such_tool' }, outcome: { status: 'denied', code: 'mcp.unknown_tool' } });
    expect(row.body.argsHash).toMatch(/^sha256:/);
    expect(JSON.stringify(row.body.args)).toContain('[Infinity]');
  });

  it('arguments that are unusual but exact (-0, lone surrogates, a "__proto__" member) go through and are recorded', async () => {
    const answer = await send('tools/call', '{"name":"echo","arguments":{"text":"odd \\ud800 text","z":-0,"__proto__":{"admin":true}}}');
    expect(answer.error).toBeUndefined();
    expect(answer.result).toMatchObject({ content: [{ type: 'text', text: 'odd \ud800 text' }] });
    const intent = await waitFor(
      () => auditRows(gw.dataDir).find((r) => r.kind === 'call.intent' && (r.body.args as { text?: unknown } | undefined)?.text === 'odd \ud800 text'),
      'the intent record of the unusual call',
    );
    expect(intent.body.args).toMatchObject({ z: 0 });
    expect(Object.hasOwn(intent.body.args as object, '__proto__')).toBe(true);
    expect(intent.body.argsHash).toMatch(/^sha256:/);
  });

  it('the audit chain verifies after all of it', async () => {
    const result = await cli(['audit', 'verify', '--data-dir', gw.dataDir]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
