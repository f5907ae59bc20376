import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type LoggingMessageNotification,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  cleanup,
  connectClient,
  ECHO_SERVER,
  memoryServer,
  NODE,
  sleep,
  startGateway,
  tempDir,
  text,
  waitFor,
  type GatewayProcess,
} from '../helpers/e2e.js';

afterAll(cleanup);

/**
 * Everything MCP offers besides plain tool calls, through the gateway with the SDK client:
 * resources, prompts, completions, logging, progress, cancellation, list_changed, and
 * server→client requests routed back to the one client they belong to.
 */
describe('transparent proxying through the SDK client', () => {
  let gw: GatewayProcess;
  let aliceToken: string;
  let bobToken: string;

  beforeAll(async () => {
    gw = await startGateway({
      config: {
        servers: {
          echo: { command: NODE, args: [ECHO_SERVER] },
          memory: memoryServer(tempDir()),
        },
        access: [{ allow: { users: ['alice', 'bob'], servers: ['echo', 'memory'] } }],
        // This suite is about what passes through (incl. 40 concurrent calls), not about limits.
        rateLimits: { enabled: false },
      },
    });
    [aliceToken, bobToken] = await Promise.all([gw.token('alice'), gw.token('bob')]);
  });

  /** What the echo upstream says it was told (subscriptions, cancellations). */
  async function upstreamEvents(client: Client): Promise<{ type: string; uri?: string; ms?: number }[]> {
    return JSON.parse(text(await client.callTool({ name: 'echo__events', arguments: {} }))) as { type: string; uri?: string; ms?: number }[];
  }

  function collectLogs(client: Client): LoggingMessageNotification['params'][] {
    const messages: LoggingMessageNotification['params'][] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params));
    return messages;
  }

  it('answers many concurrent calls on one session, each with its own result', async () => {
    const client = await connectClient(gw, aliceToken);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        client.callTool({ name: i % 2 ? 'echo__echo' : 'echo__add', arguments: i % 2 ? { text: `n${i}` } : { a: i, b: 1000 } }),
      ),
    );
    expect(results.map(text)).toEqual(Array.from({ length: 40 }, (_, i) => (i % 2 ? `n${i}` : String(i + 1000))));
  });

  describe('resources', () => {
    it('lists resources and templates of every server and reads through both', async () => {
      const client = await connectClient(gw, aliceToken);
      const resources = (await client.listResources()).resources.map((r) => r.uri);
      expect(resources).toEqual(expect.arrayContaining(['echo://readme', 'memory://knowledge-graph']));
      const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
      expect(templates).toContain('echo://greeting/{name}');
      expect((await client.readResource({ uri: 'echo://readme' })).contents).toEqual([{ uri: 'echo://readme', text: 'echo server readme' }]);
      expect((await client.readResource({ uri: 'echo://greeting/ada' })).contents).toEqual([{ uri: 'echo://greeting/ada', text: 'hello ada' }]);
      const graph = (await client.readResource({ uri: 'memory://knowledge-graph' })).contents[0];
      expect(graph).toMatchObject({ uri: 'memory://knowledge-graph', mimeType: 'application/json' });
    });

    it('refuses a URI no server offers, without asking any upstream', async () => {
      const client = await connectClient(gw, aliceToken);
      await expect(client.readResource({ uri: 'file:///etc/passwd' })).rejects.toMatchObject({ code: -32002, data: { code: 'mcp.unknown_resource' } });
    });

    it('subscribes and unsubscribes upstream, and delivers resources/updated only while subscribed', async () => {
      const client = await connectClient(gw, aliceToken);
      const updates: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
      const logs = collectLogs(client);

      await client.subscribeResource({ uri: 'echo://readme' });
      expect((await upstreamEvents(client)).filter((e) => e.uri === 'echo://readme').map((e) => e.type)).toEqual(['subscribe']);
      await client.callTool({ name: 'echo__touch', arguments: { uri: 'echo://readme' } });
      await waitFor(() => updates.includes('echo://readme'), 'resources/updated');

      await client.unsubscribeResource({ uri: 'echo://readme' });
      expect((await upstreamEvents(client)).filter((e) => e.uri === 'echo://readme').map((e) => e.type)).toEqual(['subscribe', 'unsubscribe']);
      await client.callTool({ name: 'echo__touch', arguments: { uri: 'echo://readme' } });
      // A fence on the same stream: the log message is sent after any update would have been.
      await client.callTool({ name: 'echo__log', arguments: { message: 'fence' } });
      await waitFor(() => logs.some((m) => m.data === 'fence'), 'the fence log message');
      expect(updates).toEqual(['echo://readme']);
    });

    it('delivers a real upstream’s resource update (server-memory’s knowledge graph)', async () => {
      const client = await connectClient(gw, aliceToken);
      const updates: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
      await client.subscribeResource({ uri: 'memory://knowledge-graph' });
      await client.callTool({ name: 'memory__create_entities', arguments: { entities: [{ name: 'Ada', entityType: 'person', observations: [] }] } });
      await waitFor(() => updates.includes('memory://knowledge-graph'), 'the knowledge graph update');
    });
  });

  describe('prompts and completions', () => {
    it('lists prompts prefixed and gets one by its exposed name', async () => {
      const client = await connectClient(gw, aliceToken);
      expect((await client.listPrompts()).prompts.map((p) => p.name)).toContain('echo__greet');
      const prompt = await client.getPrompt({ name: 'echo__greet', arguments: { name: 'Ada' } });
      expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Say hello to Ada' } }]);
      await expect(client.getPrompt({ name: 'greet', arguments: { name: 'Ada' } })).rejects.toMatchObject({
        code: -32602,
        data: { code: 'mcp.unknown_prompt' },
      });
    });

    it('completes a prompt argument through the upstream', async () => {
      const client = await connectClient(gw, aliceToken);
      const result = await client.complete({ ref: { type: 'ref/prompt', name: 'echo__greet' }, argument: { name: 'name', value: 'Al' } });
      expect(result.completion.values).toEqual(['Alice', 'Alan']);
    });
  });

  describe('logging', () => {
    it('delivers upstream log messages, filtered by the level the client set', async () => {
      const client = await connectClient(gw, aliceToken);
      const logs = collectLogs(client);
      await client.setLoggingLevel('info');
      await client.callTool({ name: 'echo__log', arguments: { message: 'first' } });
      await waitFor(() => logs.some((m) => m.data === 'first'), 'the first log message');
      expect(logs.find((m) => m.data === 'first')).toEqual({ level: 'info', logger: 'echo', data: 'first' });

      await client.setLoggingLevel('error');
      await client.callTool({ name: 'echo__log', arguments: { message: 'suppressed' } });
      await client.setLoggingLevel('info');
      await client.callTool({ name: 'echo__log', arguments: { message: 'after' } });
      await waitFor(() => logs.some((m) => m.data === 'after'), 'the last log message');
      expect(logs.map((m) => m.data)).toEqual(['first', 'after']);
    });
  });

  describe('progress and cancellation', () => {
    it('relays progress notifications for the caller’s progress token', async () => {
      const client = await connectClient(gw, aliceToken);
      const progress: Progress[] = [];
      const result = await client.callTool({ name: 'echo__slow', arguments: { ms: 150, steps: 3 } }, undefined, { onprogress: (p) => void progress.push(p) });
      expect(text(result)).toBe('slept 150ms');
      expect(progress).toEqual([
        { progress: 1, total: 3 },
        { progress: 2, total: 3 },
        { progress: 3, total: 3 },
      ]);
    });

    it('forwards a client’s cancellation to the upstream and records the call as cancelled', async () => {
      const client = await connectClient(gw, aliceToken);
      const controller = new AbortController();
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const call = client.callTool({ name: 'echo__slow', arguments: { ms: 6000, steps: 20 } }, undefined, {
        signal: controller.signal,
        onprogress: () => started(),
      });
      await running;
      controller.abort('user pressed stop');
      await expect(call).rejects.toThrow();
      const events = await waitFor(async () => {
        const e = await upstreamEvents(client);
        return e.some((x) => x.type === 'cancelled' && x.ms === 6000) ? e : undefined;
      }, 'the upstream to see notifications/cancelled');
      expect(events.filter((e) => e.type === 'cancelled' && e.ms === 6000)).toHaveLength(1);
      const record = await waitFor(
        () => auditRows(gw.dataDir).find((r) => r.kind === 'call.result' && r.body.target?.tool === 'echo__slow' && r.body.outcome?.status === 'cancelled'),
        'the cancelled outcome record',
      );
      expect(record.body.outcome).toMatchObject({ status: 'cancelled' });
    });
  });

  describe('list_changed', () => {
    it('tells clients when an upstream adds a tool, and the new tool appears prefixed and works', async () => {
      const client = await connectClient(gw, aliceToken);
      const observer = await connectClient(gw, bobToken);
      let changed = 0;
      let observed = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
      observer.setNotificationHandler(ToolListChangedNotificationSchema, () => void observed++);
      const name = `fresh_${Date.now()}`;
      expect((await client.listTools()).tools.map((t) => t.name)).not.toContain(`echo__${name}`);
      await client.callTool({ name: 'echo__add_tool', arguments: { name } });
      await waitFor(() => changed > 0 && observed > 0, 'tools/list_changed on both sessions');
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toContain(`echo__${name}`);
      expect(tools).not.toContain(name);
      expect(text(await client.callTool({ name: `echo__${name}`, arguments: {} }))).toBe(`I am ${name}`);
    });
  });

  describe('server→client requests', () => {
    it('routes sampling to the client whose call asked for it, never to another session', async () => {
      const seen: { alice: string[]; bob: string[] } = { alice: [], bob: [] };
      const samplingClient = (who: 'alice' | 'bob', token: string) =>
        connectClient(gw, token, {
          name: who,
          capabilities: { sampling: {} },
          setup: (c) =>
            c.setRequestHandler(CreateMessageRequestSchema, async (request) => {
              const content = request.params.messages[0]?.content;
              seen[who].push(content && 'text' in content ? String(content.text) : '?');
              return { model: `${who}-model`, role: 'assistant', content: { type: 'text', text: `${who} answers` } };
            }),
        });
      const alice = await samplingClient('alice', aliceToken);
      const bob = await samplingClient('bob', bobToken);
      expect(text(await alice.callTool({ name: 'echo__ask_model', arguments: { prompt: 'from alice' } }))).toBe('model said: alice answers');
      expect(seen).toEqual({ alice: ['from alice'], bob: [] });
      expect(text(await bob.callTool({ name: 'echo__ask_model', arguments: { prompt: 'from bob' } }))).toBe('model said: bob answers');
      expect(seen).toEqual({ alice: ['from alice'], bob: ['from bob'] });
      const relayed = await waitFor(() => {
        const rows = auditRows(gw.dataDir).filter((r) => r.kind === 'upstream.request' && r.body.method === 'sampling/createMessage');
        return rows.length >= 2 ? rows : undefined;
      }, 'relayed sampling records');
      expect(relayed.map((r) => r.body.actor?.sub)).toEqual(['alice', 'bob']);
    });

    it('relays elicitation to the calling client and its answer back to the upstream', async () => {
      const questions: string[] = [];
      const client = await connectClient(gw, aliceToken, {
        capabilities: { elicitation: {} },
        setup: (c) =>
          c.setRequestHandler(ElicitRequestSchema, async (request) => {
            questions.push(request.params.message);
            return { action: 'accept', content: { answer: 'blue' } };
          }),
      });
      expect(text(await client.callTool({ name: 'echo__ask_user', arguments: { question: 'Favourite colour?' } }))).toBe('user accept: blue');
      expect(questions).toEqual(['Favourite colour?']);
    });

    it('does not relay sampling or elicitation to a client that did not declare it: the upstream gets a clean error', async () => {
      const client = await connectClient(gw, aliceToken);
      const elicit = await client.callTool({ name: 'echo__ask_user', arguments: { question: 'Anyone?' } });
      expect(elicit.isError).toBe(true);
      expect(text(elicit)).toBe('MCP error -32601: The client does not support elicitation/create.');
      const sample = await client.callTool({ name: 'echo__ask_model', arguments: { prompt: 'anyone?' } });
      expect(sample.isError).toBe(true);
      expect(text(sample)).toBe('MCP error -32601: The client does not support sampling/createMessage.');
    });

    it('does not forward roots requests by default: the client is never asked', async () => {
      let asked = 0;
      const client = await connectClient(gw, aliceToken, {
        capabilities: { roots: { listChanged: true } },
        setup: (c) =>
          c.setRequestHandler(ListRootsRequestSchema, async () => {
            asked++;
            return { roots: [{ uri: 'file:///', name: 'everything' }] };
          }),
      });
      const result = await client.callTool({ name: 'echo__list_roots', arguments: {} });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/roots/i);
      await sleep(50);
      expect(asked).toBe(0);
    });
  });
});

describe('roots, when a server is configured with forwardRoots', () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    gw = await startGateway({
      config: {
        servers: { echo: { command: NODE, args: [ECHO_SERVER], forwardRoots: true } },
        access: [{ allow: { users: ['alice', 'bob'], servers: ['echo'] } }],
      },
    });
  });

  it('relays the upstream’s roots request to the calling client only', async () => {
    const asked = { alice: 0, bob: 0 };
    const rootsClient = async (who: 'alice' | 'bob') =>
      connectClient(gw, await gw.token(who), {
        capabilities: { roots: { listChanged: true } },
        setup: (c) =>
          c.setRequestHandler(ListRootsRequestSchema, async () => {
            asked[who]++;
            return { roots: [{ uri: `file:///home/${who}`, name: who }] };
          }),
      });
    const alice = await rootsClient('alice');
    await rootsClient('bob');
    expect(JSON.parse(text(await alice.callTool({ name: 'list_roots', arguments: {} })))).toEqual([{ uri: 'file:///home/alice', name: 'alice' }]);
    expect(asked).toEqual({ alice: 1, bob: 0 });
  });

  it('answers the upstream with an error when the calling client does not offer roots', async () => {
    const client = await connectClient(gw, await gw.token('alice'));
    const result = await client.callTool({ name: 'list_roots', arguments: {} });
    expect(result.isError).toBe(true);
    expect(text(result)).toBe('MCP error -32601: The client does not support roots/list.');
  });
});
