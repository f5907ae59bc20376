import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ECHO_SERVER, MCP_HEADERS, NODE, rawHttp, rpcMessages, startGateway, waitFor, type GatewayProcess } from '../helpers/e2e.js';

const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
type Message = { id?: unknown; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: Record<string, unknown> };

/**
 * `subscriptions/listen` in place of the GET stream and resources/subscribe: each caller hears
 * only about what it may see — resources its policy lets it read, list changes of its own
 * filtered lists — on a stream tagged with its subscription id.
 */
describe('stateless subscriptions/listen', () => {
  let gw: GatewayProcess;
  let alice: string;
  let bob: string;
  let nextId = 100;
  const aborts: AbortController[] = [];

  beforeAll(async () => {
    gw = await startGateway({
      config: {
        // Tools added at runtime are trusted here so a list change can be seen; quarantined ones change no list.
        servers: { echo: { command: NODE, args: [ECHO_SERVER], pinning: { mode: 'trust-on-first-use' } } },
        access: [{ allow: { users: ['alice'], servers: ['echo'] } }],
      },
    });
    alice = await gw.token('alice');
    bob = await gw.token('bob');
  });
  afterAll(async () => {
    for (const a of aborts) a.abort();
    await cleanup();
  });

  const headers = (token: string, method: string, name?: string) => ({
    ...MCP_HEADERS,
    authorization: `Bearer ${token}`,
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(name === undefined ? {} : { 'mcp-name': name }),
  });
  const call = async (token: string, name: string, args: Record<string, unknown>) => {
    const res = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: headers(token, 'tools/call', name),
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args, _meta: META } }),
    });
    return rpcMessages(res).at(-1) as Message;
  };

  /** Opens a listen stream and collects its messages as they arrive. */
  const listen = async (token: string, notifications: unknown) => {
    const id = nextId++;
    const abort = new AbortController();
    aborts.push(abort);
    const response = await fetch(gw.mcpUrl, {
      method: 'POST',
      headers: headers(token, 'subscriptions/listen'),
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { notifications, _meta: META } }),
      signal: abort.signal,
    });
    const messages: Message[] = [];
    if (response.headers.get('content-type')?.startsWith('text/event-stream') && response.body) {
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      void (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            buffer += decoder.decode(value, { stream: true });
            let end = buffer.indexOf('\n\n');
            while (end >= 0) {
              for (const line of buffer.slice(0, end).split('\n')) if (line.startsWith('data: ')) messages.push(JSON.parse(line.slice(6)) as Message);
              buffer = buffer.slice(end + 2);
              end = buffer.indexOf('\n\n');
            }
          }
        } catch {
          // aborted by the test
        }
      })();
    }
    return { id, response, messages, close: () => abort.abort() };
  };
  const upstreamEvents = async () =>
    JSON.parse(((await call(alice, 'events', {})).result?.content as { text: string }[])[0]?.text ?? '[]') as { type: string; uri?: string }[];

  it('acknowledges first, with only what the caller may see, tagged with the subscription id', async () => {
    const a = await listen(alice, { toolsListChanged: true, resourceSubscriptions: ['echo://readme'] });
    expect(a.response.status).toBe(200);
    expect(a.response.headers.get('mcp-session-id')).toBeNull();
    const ack = await waitFor(() => a.messages[0], 'the acknowledgment');
    expect(ack).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: {
        notifications: { toolsListChanged: true, resourceSubscriptions: ['echo://readme'] },
        _meta: { 'io.modelcontextprotocol/subscriptionId': a.id },
      },
    });
    // Bob may not read the resource: his acknowledgment leaves it out.
    const b = await listen(bob, { toolsListChanged: true, resourceSubscriptions: ['echo://readme'] });
    expect((await waitFor(() => b.messages[0], "bob's acknowledgment")).params?.notifications).toEqual({ toolsListChanged: true, resourceSubscriptions: [] });
    expect((await upstreamEvents()).filter((e) => e.type === 'subscribe' && e.uri === 'echo://readme')).toHaveLength(1);

    // A resource update reaches alice's stream only.
    expect((await call(alice, 'touch', { uri: 'echo://readme' })).result?.content).toEqual([{ type: 'text', text: 'touched echo://readme' }]);
    const updated = await waitFor(() => a.messages.find((m) => m.method === 'notifications/resources/updated'), 'the resource update');
    expect(updated.params).toEqual({ uri: 'echo://readme', _meta: { 'io.modelcontextprotocol/subscriptionId': a.id } });

    // A tool added upstream changes alice's list, not bob's (he sees none of them).
    await call(alice, 'add_tool', { name: 'fresh_tool' });
    await waitFor(() => a.messages.find((m) => m.method === 'notifications/tools/list_changed'), 'the list change');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(b.messages.map((m) => m.method)).toEqual(['notifications/subscriptions/acknowledged']);
    // Nothing she did not ask for: no prompt or resource list changes, no log messages.
    expect(new Set(a.messages.map((m) => m.method))).toEqual(
      new Set(['notifications/subscriptions/acknowledged', 'notifications/resources/updated', 'notifications/tools/list_changed']),
    );

    // Closing the stream ends the upstream subscription nobody else needs.
    a.close();
    b.close();
    await waitFor(async () => (await upstreamEvents()).some((e) => e.type === 'unsubscribe' && e.uri === 'echo://readme'), 'the upstream unsubscribe');
  });

  it('refuses a malformed filter with -32602 and opens nothing', async () => {
    for (const notifications of [
      undefined,
      [],
      { toolsListChanged: 'yes' },
      { resourceSubscriptions: 'echo://readme' },
      { resourceSubscriptions: Array(65).fill('x') },
    ]) {
      const res = await rawHttp(gw.mcpUrl, {
        method: 'POST',
        headers: headers(alice, 'subscriptions/listen'),
        body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'subscriptions/listen', params: { notifications, _meta: META } }),
      });
      expect(res.status, JSON.stringify(notifications)).toBe(400);
      expect(rpcMessages(res)[0]?.error).toMatchObject({ code: -32602 });
    }
  });

  it('list results stay private with a TTL: a per-user list is never shared', async () => {
    const res = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: headers(alice, 'tools/list'),
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/list', params: { _meta: META } }),
    });
    expect(rpcMessages(res)[0]?.result).toMatchObject({ resultType: 'complete', cacheScope: 'private', ttlMs: 60_000 });
  });
});
