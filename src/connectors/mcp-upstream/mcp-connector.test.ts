import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { McpServerConfig } from '../../config/index.js';
import type { CallContext, ClientChannel, ResumeClaim } from '../../pipeline/index.js';
import { MAX_INPUT_ROUNDS } from './input-rounds.js';
import { McpUpstreamConnector } from './mcp-connector.js';
import type { UpstreamEnvironment, UpstreamHooks, UpstreamInstance, UpstreamRequestOptions } from './upstream-instance.js';

const ELICIT = { method: 'elicitation/create', params: { message: 'Name?', requestedSchema: { type: 'object', properties: {} } } };
const ASK = { resultType: 'input_required', inputRequests: { user_name: ELICIT }, requestState: '{"upstream":"private-state"}' };
const DONE = { content: [{ type: 'text', text: 'done' }] };

interface Sent {
  method: string;
  params: Record<string, unknown>;
  options: UpstreamRequestOptions;
}

/** A connector whose one instance is a double of a stateless (or session-era) upstream answering from `answers`. */
function setup(answers: (sent: Sent, n: number) => Result, era: '2025' | '2026' = '2026', forwardRoots = false) {
  const config = { url: 'https://up.example/mcp', isolation: 'shared', forwardRoots, tools: {} } as unknown as McpServerConfig;
  const connector = new McpUpstreamConnector('remote', config, {} as UpstreamEnvironment, {} as UpstreamHooks);
  const sent: Sent[] = [];
  const instance = {
    era,
    inflight: new Map(),
    sessions: new Set(),
    catalog: { tools: [{ name: 'greet', inputSchema: { type: 'object' } }], resources: [], resourceTemplates: [], prompts: [] },
    request: async (request: { method: string; params: Record<string, unknown> }, _schema: unknown, options: UpstreamRequestOptions) => {
      const entry = { method: request.method, params: request.params, options };
      sent.push(entry);
      return answers(entry, sent.length);
    },
  } as unknown as UpstreamInstance;
  connector.instance = async () => instance;
  return { connector, sent };
}

function context(client: Partial<ClientChannel>, overrides: { method?: string; resume?: ResumeClaim; server?: string } = {}): CallContext {
  const method = overrides.method ?? 'tools/call';
  return {
    requestId: 'r1',
    rpcId: 1,
    principal: { sub: 'alice', clientId: 'app' },
    origin: { sessionId: 's1', ip: undefined, clientName: undefined, protocolVersion: undefined },
    op: { method, action: 'call', kind: 'tool', server: overrides.server ?? 'remote', name: 'greet', id: 'remote__greet', args: {} },
    params: { name: 'greet', arguments: { who: 'x' } },
    signal: new AbortController().signal,
    startedAt: 0,
    client: { elicitation: { form: true, url: false }, elicit: async () => ({ action: 'decline' }), elicitationComplete: async () => undefined, ...client },
    decision: undefined,
    intentSeq: undefined,
    notes: {},
    control: overrides.resume ? { resume: overrides.resume } : {},
  } as unknown as CallContext;
}

const sessionClient = (answer: () => Record<string, unknown> = () => ({ action: 'accept', content: { name: 'A' } })) => {
  const asked: { method: string; params: unknown }[] = [];
  const client: Partial<ClientChannel> = {
    capabilities: { elicitation: { form: {} }, sampling: {}, roots: {}, experimental: { x: {} } },
    request: async (method, params) => {
      asked.push({ method, params });
      return answer();
    },
  };
  return { client, asked };
};

describe('McpUpstreamConnector, upstream of the stateless revision', () => {
  it('session-era caller: the input request is asked of the client and the upstream retried with the answer and its own state', async () => {
    const { connector, sent } = setup((_s, n) => (n === 1 ? ASK : DONE));
    const { client, asked } = sessionClient();
    const result = await connector.execute(context(client));
    expect(result).toEqual(DONE);
    expect(asked).toEqual([{ method: 'elicitation/create', params: ELICIT.params }]);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.params).toEqual({
      name: 'greet',
      arguments: { who: 'x' },
      inputResponses: { user_name: { action: 'accept', content: { name: 'A' } } },
      requestState: ASK.requestState,
    });
    // The upstream is told the client's own capabilities, restricted to what Gatehouse relays (no roots without forwardRoots).
    expect(sent[0]?.options.clientCapabilities).toEqual({ elicitation: { form: {} }, sampling: {} });
    expect(sent[0]?.options.inputSchema).toEqual({ type: 'object' });
  });

  it(`session-era caller: an upstream that never stops asking is given up on after ${MAX_INPUT_ROUNDS} rounds`, async () => {
    const { connector, sent } = setup(() => ASK);
    const { client, asked } = sessionClient();
    await expect(connector.execute(context(client))).rejects.toMatchObject({ code: 'upstream.too_many_input_rounds' });
    expect(asked).toHaveLength(MAX_INPUT_ROUNDS);
    expect(sent).toHaveLength(MAX_INPUT_ROUNDS + 1);
  });

  it('stateless caller: the InputRequiredResult passes through with the upstream’s keys and a state of Gatehouse’s wrapping the upstream’s', async () => {
    const { connector } = setup(() => ASK);
    const sealed: unknown[] = [];
    const result = await connector.execute(
      context({
        capabilities: { elicitation: {} },
        sealUpstreamState: (upstream) => {
          sealed.push(upstream);
          return 'SEALED';
        },
      }),
    );
    expect(result).toEqual({ resultType: 'input_required', inputRequests: { user_name: ELICIT }, requestState: 'SEALED' });
    expect(sealed).toEqual([{ server: 'remote', state: ASK.requestState, requests: { user_name: 'elicitation/create' } }]);
    expect(JSON.stringify(result)).not.toContain('private-state');
  });

  it('stateless retry: the upstream gets the answers and its own state back; a state for another server or a session-era upstream reaches nothing', async () => {
    const resume = (server: string): ResumeClaim => ({
      pendingId: '',
      inputResponses: { user_name: { action: 'accept', content: { name: 'B' } } },
      upstream: { server, state: ASK.requestState },
      abandon: () => undefined,
    });
    const ok = setup(() => DONE);
    expect(await ok.connector.execute(context({ sealUpstreamState: () => 'S' }, { resume: resume('remote') }))).toEqual(DONE);
    expect(ok.sent[0]?.params).toMatchObject({ inputResponses: { user_name: { action: 'accept', content: { name: 'B' } } }, requestState: ASK.requestState });

    const other = setup(() => DONE);
    await expect(other.connector.execute(context({ sealUpstreamState: () => 'S' }, { resume: resume('elsewhere') }))).rejects.toMatchObject({
      code: -32602,
      data: { code: 'mcp.request_state_invalid', reason: 'wrong_request' },
    });
    expect(other.sent).toHaveLength(0);

    const restarted = setup(() => DONE, '2025');
    await expect(restarted.connector.execute(context({ sealUpstreamState: () => 'S' }, { resume: resume('remote') }))).rejects.toMatchObject({
      data: { code: 'mcp.request_state_invalid', reason: 'not_pending' },
    });
    expect(restarted.sent).toHaveLength(0);
  });

  it('an input request of a kind Gatehouse does not relay fails the call; nothing is asked', async () => {
    const { connector } = setup(() => ({ resultType: 'input_required', inputRequests: { r: { method: 'roots/list' } } }));
    const { client, asked } = sessionClient();
    await expect(connector.execute(context(client))).rejects.toMatchObject({ code: 'upstream.invalid_input_required' });
    expect(asked).toEqual([]);
  });

  it('session-only methods: logging/setLevel stays with Gatehouse, resources/subscribe is refused; neither reaches the upstream', async () => {
    const { connector, sent } = setup(() => DONE);
    expect(await connector.execute(context({}, { method: 'logging/setLevel' }))).toEqual({});
    await expect(connector.execute(context({}, { method: 'resources/subscribe' }))).rejects.toMatchObject({ code: -32601 });
    expect(sent).toHaveLength(0);
  });

  it('a session-era upstream is called as before, without the stateless options', async () => {
    const { connector, sent } = setup(() => ASK, '2025');
    const { client, asked } = sessionClient();
    // Not an InputRequiredResult to that era: handed back as it came.
    expect(await connector.execute(context(client))).toEqual(ASK);
    expect(asked).toEqual([]);
    expect(sent[0]?.options.clientCapabilities).toBeUndefined();
  });
});
