import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, cleanup, ECHO_SERVER, MCP_HEADERS, NODE, ROOT, rawHttp, rpcMessages, startGateway, tempDir, type GatewayProcess } from '../helpers/e2e.js';

const MODERN = '2026-07-28';
/** Short, so the expiry case runs in seconds; every other case retries well within it. */
const INPUT_TIMEOUT_MS = 4000;
const FORM = { elicitation: { form: {} } };

type Rpc = { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: Record<string, unknown> } };

/**
 * Multi-round-trip translation: a stateless client calls a tool of a session-era stdio upstream
 * that asks the client something (elicitation, sampling) in the middle of the call. The client
 * gets an InputRequiredResult with a sealed requestState; its retry resumes the very upstream
 * request that is still waiting, and a state that is not exactly the one issued resumes nothing.
 */
describe('stateless input_required: elicitation and sampling from a session-era upstream', () => {
  let gw: GatewayProcess;
  let alice: string;
  let bob: string;
  let nextId = 1;

  beforeAll(async () => {
    gw = await startGateway({
      config: {
        servers: { echo: { command: NODE, args: [ECHO_SERVER] } },
        access: [{ allow: { users: ['alice', 'bob'], servers: ['echo'] } }],
        limits: { inputRequiredTimeout: `${INPUT_TIMEOUT_MS}ms` },
      },
    });
    alice = await gw.token('alice');
    bob = await gw.token('bob');
  });
  afterAll(cleanup);

  /** One raw stateless request with correct metadata headers. */
  const post = async (token: string, method: string, params: Record<string, unknown>, capabilities: Record<string, unknown> = FORM) => {
    const name = (params.name ?? params.uri) as string | undefined;
    const res = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: {
        ...MCP_HEADERS,
        authorization: `Bearer ${token}`,
        'mcp-protocol-version': MODERN,
        'mcp-method': method,
        ...(name === undefined ? {} : { 'mcp-name': name }),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: nextId++,
        method,
        params: {
          ...params,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': capabilities,
          },
        },
      }),
    });
    return { status: res.status, message: rpcMessages(res).at(-1) as Rpc };
  };
  const ask = (question: string) => ({ name: 'ask_user', arguments: { question } });
  const accept = (answer: string) => ({ action: 'accept', content: { answer } });

  /** The first leg: an InputRequiredResult for `question`, with its one input request. */
  const firstLeg = async (question: string, token = alice) => {
    const first = await post(token, 'tools/call', ask(question));
    expect(first.status, JSON.stringify(first.message)).toBe(200);
    expect(first.message.result, JSON.stringify(first.message)).toBeDefined();
    const result = first.message.result as {
      resultType: string;
      inputRequests: Record<string, { method: string; params: Record<string, unknown> }>;
      requestState: string;
    };
    expect(result.resultType).toBe('input_required');
    const keys = Object.keys(result.inputRequests);
    expect(keys).toHaveLength(1);
    return { key: keys[0] as string, request: result.inputRequests[keys[0] as string], state: result.requestState };
  };
  const refusedWith = (outcome: { status: number; message: Rpc }, reason: string) => {
    expect(outcome.status).toBe(400);
    expect(outcome.message.error?.code).toBe(-32602);
    expect(outcome.message.error?.data).toMatchObject({ code: 'mcp.request_state_invalid', reason });
    expect(outcome.message.result).toBeUndefined();
  };

  it('the official 2.x client answers the elicitation and its retry resumes the waiting upstream call', async () => {
    const client = new Client({ name: 'sdk-2', version: '2.4.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: 'auto' } });
    const asked: unknown[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(request.params);
      return { action: 'accept', content: { answer: 'forty-two' } };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }));
    try {
      const result = await client.callTool({ name: 'ask_user', arguments: { question: 'What is the answer?' } });
      expect(result.content).toEqual([{ type: 'text', text: 'user accept: forty-two' }]);
      // Asked exactly once: the retry resumed the call that was waiting, it did not start a new one.
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatchObject({ mode: 'form', message: 'What is the answer?' });
    } finally {
      await client.close();
    }
  });

  it('the official 2.x client answers a sampling request the same way', async () => {
    const client = new Client({ name: 'sdk-2', version: '2.4.0' }, { capabilities: { sampling: {} }, versionNegotiation: { mode: 'auto' } });
    client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', content: { type: 'text', text: 'Paris' }, model: 'test-model' }));
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }));
    try {
      const result = await client.callTool({ name: 'ask_model', arguments: { prompt: 'Capital of France?' } });
      expect(result.content).toEqual([{ type: 'text', text: 'model said: Paris' }]);
    } finally {
      await client.close();
    }
  });

  it('raw: the InputRequiredResult carries the upstream request and a sealed state; the retry returns the final result; the state is spent', async () => {
    const { key, request, state } = await firstLeg('Raw question?');
    expect(key).toBe('elicitation-1');
    expect(request).toMatchObject({ method: 'elicitation/create', params: { mode: 'form', message: 'Raw question?' } });
    // Opaque to the client: nothing about the user, the tool or the arguments is readable in it.
    const decoded = Buffer.from(state, 'base64url').toString('latin1');
    for (const leak of ['alice', 'ask_user', 'Raw question']) expect(decoded).not.toContain(leak);

    const done = await post(alice, 'tools/call', { ...ask('Raw question?'), inputResponses: { [key]: accept('yes') }, requestState: state });
    expect(done.status).toBe(200);
    expect(done.message.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'user accept: yes' }] });

    refusedWith(await post(alice, 'tools/call', { ...ask('Raw question?'), inputResponses: { [key]: accept('again') }, requestState: state }), 'not_pending');
    // Both legs went through the call pipeline and are on record (the refused replay is not a call).
    const intents = auditRows(gw.dataDir).filter((r) => r.kind === 'call.intent' && r.rawBody.includes('Raw question?'));
    expect(intents).toHaveLength(2);
  });

  it('refuses tampered, cross-user, wrong-tool and wrong-argument states without touching the waiting call, which the right retry still resumes', async () => {
    const { key, state } = await firstLeg('Who are you?');
    const answers = { [key]: accept('alice') };
    const flipped = `${state.slice(0, 20)}${state[20] === 'A' ? 'B' : 'A'}${state.slice(21)}`;
    refusedWith(await post(alice, 'tools/call', { ...ask('Who are you?'), inputResponses: answers, requestState: flipped }), 'tampered');
    refusedWith(await post(alice, 'tools/call', { ...ask('Who are you?'), inputResponses: answers, requestState: `${state}AA` }), 'tampered');
    refusedWith(await post(alice, 'tools/call', { ...ask('Who are you?'), inputResponses: answers, requestState: 'not base64 !' }), 'malformed');
    refusedWith(await post(bob, 'tools/call', { ...ask('Who are you?'), inputResponses: { [key]: accept('bob') }, requestState: state }), 'wrong_principal');
    refusedWith(await post(alice, 'tools/call', { ...ask('Who else?'), inputResponses: answers, requestState: state }), 'wrong_request');
    refusedWith(
      await post(alice, 'tools/call', { name: 'echo', arguments: { question: 'Who are you?' }, inputResponses: answers, requestState: state }),
      'wrong_request',
    );
    refusedWith(await post(alice, 'prompts/get', { name: 'ask_user', arguments: { question: 'Who are you?' }, requestState: state }), 'wrong_request');
    // An answer that is not an elicitation result changes nothing either.
    refusedWith(
      await post(alice, 'tools/call', { ...ask('Who are you?'), inputResponses: { [key]: { action: 'maybe' } }, requestState: state }),
      'invalid_responses',
    );
    // A retry without a state Gatehouse issued never reaches the upstream as a fresh call.
    refusedWith(await post(alice, 'tools/call', { ...ask('Who are you?'), inputResponses: answers }), 'malformed');

    const done = await post(alice, 'tools/call', { ...ask('Who are you?'), inputResponses: answers, requestState: state });
    expect(done.message.result).toMatchObject({ content: [{ type: 'text', text: 'user accept: alice' }] });
    // Every refusal is on record, with its reason, under the caller who presented the state.
    await expect
      .poll(() => auditRows(gw.dataDir).filter((r) => r.kind === 'call.denied' && r.rawBody.includes('mcp.request_state_invalid')).length)
      .toBeGreaterThanOrEqual(9);
    const bobs = auditRows(gw.dataDir).filter((r) => r.kind === 'call.denied' && r.rawBody.includes('wrong_principal'));
    expect(bobs.map((r) => (r.body.actor as { sub: string }).sub)).toEqual(['bob']);
    const refusals = gw.logs().filter((l) => l.msg === 'stateless retry refused: requestState');
    expect(refusals.map((l) => l.reason)).toEqual(expect.arrayContaining(['tampered', 'malformed', 'wrong_principal', 'wrong_request', 'invalid_responses']));
  });

  it('asks again for what the retry left unanswered, with a fresh state; the old one is spent', async () => {
    const { key, state } = await firstLeg('Still there?');
    const again = await post(alice, 'tools/call', { ...ask('Still there?'), requestState: state });
    const result = again.message.result as { resultType: string; inputRequests: Record<string, unknown>; requestState: string };
    expect(result.resultType).toBe('input_required');
    expect(Object.keys(result.inputRequests)).toEqual([key]);
    expect(result.requestState).not.toBe(state);
    refusedWith(await post(alice, 'tools/call', { ...ask('Still there?'), inputResponses: { [key]: accept('x') }, requestState: state }), 'not_pending');
    const done = await post(alice, 'tools/call', { ...ask('Still there?'), inputResponses: { [key]: accept('here') }, requestState: result.requestState });
    expect(done.message.result).toMatchObject({ content: [{ type: 'text', text: 'user accept: here' }] });
  });

  it('never asks for a capability the request did not declare: the upstream gets its refusal and the call completes', async () => {
    const res = await post(alice, 'tools/call', ask('No elicitation here'), {});
    expect(res.status).toBe(200);
    expect(res.message.result?.resultType).toBe('complete');
    expect(res.message.result?.isError).toBe(true);
    expect(JSON.stringify(res.message.result)).not.toContain('input_required');
  });

  it("passes what the upstream asks through the exit sanitizer: the caller's own token never comes back in an input request", async () => {
    const first = await post(alice, 'tools/call', ask(`Repeat my token ${alice}`));
    const text = JSON.stringify(first.message);
    expect(text).not.toContain(alice);
    expect(first.message.result?.resultType).toBe('input_required');
  });

  it('expires: a state presented after the timeout is refused, the waiting call was cancelled and cleaned up', async () => {
    const { key, state } = await firstLeg('Too slow?');
    await new Promise((resolve) => setTimeout(resolve, INPUT_TIMEOUT_MS + 500));
    refusedWith(await post(alice, 'tools/call', { ...ask('Too slow?'), inputResponses: { [key]: accept('late') }, requestState: state }), 'expired');
    await expect.poll(() => gw.logs().some((l) => l.msg === 'pending request for client input cancelled' && l.target === 'ask_user')).toBe(true);
  });
});

describe('stateless input_required: the retry is authorized again', () => {
  it('a policy that forbids the tool between the legs refuses the retry and cancels the waiting call', async () => {
    const root = tempDir('gh-mrtr-policy-');
    const policies = path.join(root, 'policies');
    cpSync(path.join(ROOT, 'examples/policies'), policies, { recursive: true });
    const gw = await startGateway({ config: { servers: { echo: { command: NODE, args: [ECHO_SERVER] } }, policies } });
    const token = await gw.token('alice', { groups: ['eng'] });
    const post = async (params: Record<string, unknown>, id: number) => {
      const res = await rawHttp(gw.mcpUrl, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'ask_user' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': FORM } },
        }),
      });
      return rpcMessages(res).at(-1) as Rpc;
    };
    const args = { name: 'ask_user', arguments: { question: 'Proceed?' } };
    const first = (await post(args, 1)).result as { inputRequests: Record<string, unknown>; requestState: string };
    const key = Object.keys(first.inputRequests)[0] as string;

    writeFileSync(
      path.join(policies, '90-no-asking.cedar'),
      '@id("no-asking")\nforbid (principal, action == Action::"call", resource == Tool::"echo__ask_user");\n',
    );
    await expect.poll(() => auditRows(gw.dataDir).find((r) => r.kind.startsWith('policy.reload'))?.kind, { timeout: 10_000 }).toBe('policy.reloaded');

    const retry = await post({ ...args, inputResponses: { [key]: { action: 'accept', content: { answer: 'yes' } } }, requestState: first.requestState }, 2);
    expect(retry.result).toBeUndefined();
    expect(retry.error).toMatchObject({ code: -32003, data: { reason: 'forbidden' } });
    await expect.poll(() => gw.logs().some((l) => l.msg === 'pending request for client input cancelled' && l.reason === 'the retry was refused')).toBe(true);
    // The denial is on record for the retry, like any refused call.
    await expect.poll(() => auditRows(gw.dataDir).some((r) => r.kind === 'call.denied' && r.rawBody.includes('no-asking'))).toBe(true);
  });
});
