import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEverythingHttp } from '../helpers/conformance.js';
import path from 'node:path';
import { auditRows, cleanup, MCP_HEADERS, NODE, ROOT, rawHttp, rpcMessages, spawnTracked, startGateway, type GatewayProcess } from '../helpers/e2e.js';

const MODERN = '2026-07-28';
const FORM = { elicitation: { form: {} } };

type Rpc = { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: Record<string, unknown> } };
type InputRequired = { resultType: string; inputRequests?: Record<string, { method: string; params: Record<string, unknown> }>; requestState: string };

/**
 * Gatehouse in front of an upstream that speaks only the stateless revision over HTTP (the
 * conformance suite's reference server): `server/discover` makes the instance stateless; the
 * upstream's own InputRequiredResults reach a stateless client as they are (keys kept, the
 * upstream's state sealed inside Gatehouse's), and a session-era client gets them as ordinary
 * server→client requests.
 */
describe('a 2026-07-28 upstream behind Gatehouse, for clients of both eras', () => {
  let gw: GatewayProcess;
  let upstream: { url: string; stop: () => void };
  let alice: string;
  let bob: string;
  let nextId = 1;

  beforeAll(async () => {
    upstream = await startEverythingHttp();
    gw = await startGateway({
      config: {
        servers: { everything: { url: upstream.url, egress: { allowAddresses: ['127.0.0.1/32'] } } },
        access: [{ allow: { users: ['alice', 'bob'], servers: ['everything'] } }],
        rateLimits: { enabled: false },
      },
    });
    alice = await gw.token('alice');
    bob = await gw.token('bob');
  }, 60_000);
  afterAll(async () => {
    upstream?.stop();
    await cleanup();
  });

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
  const refusedWith = (outcome: { status: number; message: Rpc }, reason: string) => {
    expect(outcome.status, JSON.stringify(outcome.message)).toBe(400);
    expect(outcome.message.error?.code).toBe(-32602);
    expect(outcome.message.error?.data).toMatchObject({ code: 'mcp.request_state_invalid', reason });
    expect(outcome.message.result).toBeUndefined();
  };
  const intentsFor = (tool: string) => auditRows(gw.dataDir).filter((r) => r.kind === 'call.intent' && String(r.body.target?.tool ?? '').endsWith(tool)).length;
  const sessionClient = async (capabilities: Record<string, unknown>) => {
    const client = new Client({ name: 'sdk-1', version: '1' }, { capabilities });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }));
    return client;
  };

  it('the upstream is driven statelessly: its stateless-only tools are listed through Gatehouse', async () => {
    const listed = await post(alice, 'tools/list', {});
    expect(listed.status).toBe(200);
    const names = ((listed.message.result?.tools ?? []) as { name: string }[]).map((t) => t.name);
    // Only the reference server's stateless handler offers these: the session era would not list them.
    expect(names).toContain('test_input_required_result_elicitation');
    expect(names).toContain('test_missing_capability');
  });

  it('stateless client: the upstream inputRequests arrive with their own keys, its requestState sealed; the retry completes the call', async () => {
    const first = await post(alice, 'tools/call', { name: 'test_input_required_result_request_state', arguments: {} });
    expect(first.status, JSON.stringify(first.message)).toBe(200);
    const result = first.message.result as InputRequired;
    expect(result.resultType).toBe('input_required');
    expect(Object.keys(result.inputRequests ?? {})).toEqual(['confirm']);
    expect(result.inputRequests?.confirm).toMatchObject({ method: 'elicitation/create', params: { message: 'Please confirm' } });
    // The upstream's state ({"kind":"request-state",…}) is not readable in Gatehouse's.
    const decoded = Buffer.from(result.requestState, 'base64url').toString('latin1');
    for (const leak of ['request-state', 'kind', 'nonce', 'alice', 'confirm']) expect(decoded).not.toContain(leak);

    const retry = (token: string, state: string) =>
      post(token, 'tools/call', {
        name: 'test_input_required_result_request_state',
        arguments: {},
        inputResponses: { confirm: { action: 'accept', content: { ok: true } } },
        requestState: state,
      });
    // Another user presenting alice's state: refused, reaches nothing.
    const intentsBefore = intentsFor('test_input_required_result_request_state');
    refusedWith(await retry(bob, result.requestState), 'wrong_principal');
    // Altered by one character: refused.
    const flipped = result.requestState.slice(0, 20) + (result.requestState[20] === 'A' ? 'B' : 'A') + result.requestState.slice(21);
    refusedWith(await retry(alice, flipped), 'tampered');
    // Presented on other arguments: refused.
    refusedWith(
      await post(alice, 'tools/call', {
        name: 'test_input_required_result_request_state',
        arguments: { other: 1 },
        inputResponses: {},
        requestState: result.requestState,
      }),
      'wrong_request',
    );
    expect(intentsFor('test_input_required_result_request_state')).toBe(intentsBefore);

    const done = await retry(alice, result.requestState);
    expect(done.status, JSON.stringify(done.message)).toBe(200);
    // The upstream got its own state back, unsealed, with the answer: it validated both.
    expect(done.message.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'state-ok: requestState validated' }] });
    expect(intentsFor('test_input_required_result_request_state')).toBe(intentsBefore + 1);
    // A state is good for one retry.
    refusedWith(await retry(alice, result.requestState), 'not_pending');
  });

  it('stateless client: an answer that is not a result of its request kind is refused', async () => {
    const first = await post(alice, 'tools/call', { name: 'test_input_required_result_elicitation', arguments: {} });
    const result = first.message.result as InputRequired;
    expect(Object.keys(result.inputRequests ?? {})).toEqual(['user_name']);
    refusedWith(
      await post(alice, 'tools/call', {
        name: 'test_input_required_result_elicitation',
        arguments: {},
        inputResponses: { user_name: { action: 'maybe' } },
        requestState: result.requestState,
      }),
      'invalid_responses',
    );
  });

  it('the official 2.x client (stateless) answers the upstream elicitation under the key the upstream chose', async () => {
    const client = new ModernClient({ name: 'sdk-2', version: '2.4.0' }, { capabilities: FORM, versionNegotiation: { mode: 'auto' } });
    const asked: unknown[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(request.params);
      return { action: 'accept', content: { name: 'Alice' } };
    });
    await client.connect(new ModernTransport(new URL(gw.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }));
    try {
      const result = await client.callTool({ name: 'test_input_required_result_elicitation', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'Hello, Alice!' }]);
      expect(asked).toEqual([expect.objectContaining({ message: 'What is your name?' })]);
    } finally {
      await client.close();
    }
  });

  it('the capability check is the upstream’s: a stateless client without sampling gets -32021 on HTTP 400, with sampling the call succeeds', async () => {
    const without = await post(alice, 'tools/call', { name: 'test_missing_capability', arguments: {} }, FORM);
    expect(without.status).toBe(400);
    expect(without.message.error?.code).toBe(-32021);
    expect(without.message.result).toBeUndefined();
    const withSampling = await post(alice, 'tools/call', { name: 'test_missing_capability', arguments: {} }, { sampling: {} });
    expect(withSampling.status).toBe(200);
    expect(withSampling.message.result).toMatchObject({ content: [{ type: 'text', text: 'Success' }] });
  });

  it('the official 1.x client (session) gets the upstream input request as an ordinary elicitation/create, and the result', async () => {
    const client = await sessionClient(FORM);
    const asked: unknown[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params);
      return { action: 'accept', content: { name: 'Alice' } };
    });
    try {
      const result = await client.callTool({ name: 'test_input_required_result_elicitation', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'Hello, Alice!' }]);
      expect(asked).toEqual([expect.objectContaining({ message: 'What is your name?' })]);
    } finally {
      await client.close();
    }
  });

  it('the 1.x client goes through every round of a multi-round call, the upstream state kept inside Gatehouse', async () => {
    const client = await sessionClient(FORM);
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      const message = String(request.params.message);
      asked.push(message);
      return { action: 'accept', content: message.includes('name') ? { name: 'Alice' } : { color: 'green' } };
    });
    try {
      const result = await client.callTool({ name: 'test_input_required_result_multi_round', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'Multi-round complete for Alice who likes green' }]);
      expect(asked).toEqual(['Step 1: What is your name?', 'Step 2: What is your favorite color?']);
    } finally {
      await client.close();
    }
  });

  it('the 1.x client’s session-only requests: its log level is kept by Gatehouse, a resource subscription is refused clearly', async () => {
    const client = await sessionClient({});
    try {
      await expect(client.setLoggingLevel('debug')).resolves.toEqual({});
      const resources = (await client.listResources()).resources;
      expect(resources.length).toBeGreaterThan(0);
      const refused = await client
        .subscribeResource({ uri: (resources[0] as { uri: string }).uri })
        .catch((error: { code?: number; message?: string }) => error);
      expect(refused).toMatchObject({ code: -32601 });
      expect((refused as { message: string }).message).toMatch(/speaks the stateless revision, which has no resources\/subscribe/);
    } finally {
      await client.close();
    }
  });

  it('a 1.x client that declared no elicitation is never asked: the call fails with a clear error', async () => {
    const client = await sessionClient({});
    let asked = 0;
    // Whatever request would reach it is counted (it has no elicitation handler to register).
    client.fallbackRequestHandler = async () => {
      asked++;
      return {};
    };
    try {
      const outcome = await client.callTool({ name: 'test_input_required_result_elicitation', arguments: {} }).then(
        (result) => ({ result }),
        (error: { code?: number; message?: string; data?: Record<string, unknown> }) => ({ error }),
      );
      expect('error' in outcome ? outcome.error.message : JSON.stringify(outcome)).toMatch(/asked for elicitation\/create, which this client did not declare/);
      expect(asked).toBe(0);
    } finally {
      await client.close();
    }
  });
});

describe('servers.<name>.protocol: 2025 keeps a dual-era upstream in the session era', () => {
  let gw: GatewayProcess;
  let upstream: { url: string; stop: () => void };

  beforeAll(async () => {
    upstream = await startEverythingHttp();
    gw = await startGateway({
      config: {
        servers: { everything: { url: upstream.url, protocol: '2025', egress: { allowAddresses: ['127.0.0.1/32'] } } },
        access: [{ allow: { users: ['alice'], servers: ['everything'] } }],
      },
    });
  }, 60_000);
  afterAll(async () => {
    upstream?.stop();
    await cleanup();
  });

  it('the catalog is the session-era one: the tools only the stateless handler offers are absent, the ordinary ones work', async () => {
    const token = await gw.token('alice');
    const client = new Client({ name: 'sdk-1', version: '1' }, { capabilities: {} });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('test_simple_text');
      expect(names).not.toContain('test_missing_capability');
      const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
      expect(result.isError).not.toBe(true);
    } finally {
      await client.close();
    }
  });
});

/** A 2026-only upstream of our own that records what it receives (GET /seen). */
async function startStatelessUpstream(): Promise<{
  url: string;
  seen: () => Promise<{ method: string; headers: Record<string, string>; meta: Record<string, unknown> }[]>;
}> {
  const child = spawnTracked(NODE, [path.join(ROOT, 'test/fixtures/stateless-upstream.mjs')]);
  child.stdin.end();
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the stateless upstream did not start: ${out}`)), 10_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const found = /listening on (\d+)/.exec(out)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return { url: `${base}/mcp`, seen: async () => (await fetch(`${base}/seen`)).json() as never };
}

describe('what a stateless upstream is sent, and what it asks, both under Gatehouse’s controls', () => {
  const LEAK = 'AKIAZ7Q2KXW4P5N6J3HL';
  let gw: GatewayProcess;
  let upstream: Awaited<ReturnType<typeof startStatelessUpstream>>;
  let token: string;

  beforeAll(async () => {
    upstream = await startStatelessUpstream();
    gw = await startGateway({
      config: {
        servers: { remote: { url: upstream.url, headers: { 'x-upstream-key': 'upstream-credential' }, egress: { allowAddresses: ['127.0.0.1/32'] } } },
        access: [{ allow: { users: ['alice'], servers: ['remote'] } }],
      },
    });
    token = await gw.token('alice');
  }, 60_000);
  afterAll(cleanup);

  it('each request carries the revision’s headers and _meta, the caller’s capabilities, the configured credential and never the agent’s token', async () => {
    const res = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: {
        ...MCP_HEADERS,
        authorization: `Bearer ${token}`,
        'mcp-protocol-version': MODERN,
        'mcp-method': 'tools/call',
        'mcp-name': 'leaky_ask',
        'mcp-param-region': 'eu-west',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'leaky_ask',
          arguments: { region: 'eu-west' },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} }, experimental: { private: {} } },
          },
        },
      }),
    });
    expect(res.status).toBe(200);
    const result = (rpcMessages(res).at(-1) as Rpc).result as InputRequired;
    expect(result.resultType).toBe('input_required');
    // What the upstream asks leaves through the exit sanitizer, under its own key.
    const asked = JSON.stringify(result.inputRequests);
    expect(Object.keys(result.inputRequests ?? {})).toEqual(['confirm']);
    expect(asked).not.toContain(LEAK);
    expect(asked).toContain('[REDACTED:aws_access_key]');
    expect(Buffer.from(result.requestState, 'base64url').toString('latin1')).not.toContain('upstream-private-state');

    const calls = (await upstream.seen()).filter((r) => r.method === 'tools/call');
    expect(calls).toHaveLength(1);
    const call = calls[0] as { headers: Record<string, string>; meta: Record<string, unknown> };
    expect(call.headers).toMatchObject({
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': 'leaky_ask',
      'mcp-param-region': 'eu-west',
      'x-upstream-key': 'upstream-credential',
    });
    expect(call.headers.authorization).toBeUndefined();
    expect(JSON.stringify(call.headers)).not.toContain(token);
    expect(call.meta).toEqual({
      'io.modelcontextprotocol/protocolVersion': MODERN,
      'io.modelcontextprotocol/clientInfo': expect.objectContaining({ name: 'gatehouse' }),
      // The caller's own, restricted to what Gatehouse relays.
      'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
    });
    // The start asked server/discover, then listed: no initialize, ever.
    expect((await upstream.seen()).map((r) => r.method)).not.toContain('initialize');
  });

  it('a session client gets the translated elicitation sanitized too, and the upstream its own state back', async () => {
    const client = new Client({ name: 'sdk-1', version: '1' }, { capabilities: FORM });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(String(request.params.message));
      return { action: 'accept', content: { ok: true } };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    try {
      const result = await client.callTool({ name: 'leaky_ask', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'confirmed: {"ok":true}' }]);
      expect(asked).toHaveLength(1);
      expect(asked[0]).not.toContain(LEAK);
      expect(asked[0]).toContain('[REDACTED:aws_access_key]');
    } finally {
      await client.close();
    }
  });
});
