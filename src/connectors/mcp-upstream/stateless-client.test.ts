import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { encodeHeaderValue, StatelessUpstreamClient } from './stateless-client.js';

interface Seen {
  url: string;
  headers: Record<string, string>;
  body: { id: number; method: string; params: Record<string, unknown> };
}

/** A fetch double that records each request and answers with what `reply` builds. */
function fakeFetch(reply: (seen: Seen) => Response) {
  const seen: Seen[] = [];
  const fetch = async (url: string | URL, init?: RequestInit) => {
    const entry = { url: String(url), headers: { ...(init?.headers as Record<string, string>) }, body: JSON.parse(String(init?.body)) };
    seen.push(entry);
    return reply(entry);
  };
  return { seen, fetch };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const CAPS = { elicitation: { form: {} } };

describe('StatelessUpstreamClient', () => {
  it('sends the revision’s _meta and headers, mirroring the body; configured headers go along, nothing else', async () => {
    const { seen, fetch } = fakeFetch((s) => json(200, { jsonrpc: '2.0', id: s.body.id, result: { content: [] } }));
    const client = new StatelessUpstreamClient(new URL('https://up.example/mcp'), { 'x-api-key': 'k' }, fetch, { name: 'gatehouse', version: '1' });
    const schema = { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, n: { type: 'integer', 'x-mcp-header': 'N' } } };
    await client.request('tools/call', { name: 'grüß', arguments: { region: 'eu-west', n: 3 } }, { capabilities: CAPS, timeoutMs: 1000, inputSchema: schema });
    const [request] = seen as [Seen];
    expect(request.headers).toMatchObject({
      'x-api-key': 'k',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': `=?base64?${Buffer.from('grüß').toString('base64')}?=`,
      'mcp-param-region': 'eu-west',
      'mcp-param-n': '3',
    });
    expect(request.headers.authorization).toBeUndefined();
    expect(request.body.params._meta).toEqual({
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'gatehouse', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': CAPS,
    });
  });

  it('sends no Mcp-Name for methods that name nothing', async () => {
    const { seen, fetch } = fakeFetch((s) => json(200, { jsonrpc: '2.0', id: s.body.id, result: { tools: [] } }));
    const client = new StatelessUpstreamClient(new URL('https://up.example/mcp'), {}, fetch, { name: 'g', version: '1' });
    await client.request('tools/list', {}, { capabilities: {}, timeoutMs: 1000 });
    expect(seen[0]?.headers['mcp-name']).toBeUndefined();
  });

  it('reads an event stream: progress and notifications on the way, then the response to its own id', async () => {
    const events = (id: number) =>
      [
        { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: id, progress: 1, total: 2 } },
        { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'hi' } },
        { jsonrpc: '2.0', id: id + 100, result: { other: true } },
        { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'done' }] } },
      ]
        .map((m) => `event: message\r\ndata: ${JSON.stringify(m)}\r\n\r\n`)
        .join('');
    const { fetch } = fakeFetch((s) => new Response(events(s.body.id), { status: 200, headers: { 'content-type': 'text/event-stream' } }));
    const client = new StatelessUpstreamClient(new URL('https://up.example/mcp'), {}, fetch, { name: 'g', version: '1' });
    const progress: unknown[] = [];
    const notes: unknown[] = [];
    const result = await client.request(
      'tools/call',
      { name: 't' },
      {
        capabilities: {},
        timeoutMs: 1000,
        onprogress: (p) => progress.push(p),
        onnotification: (n) => notes.push(n.method),
      },
    );
    expect(result).toEqual({ content: [{ type: 'text', text: 'done' }] });
    expect(progress).toEqual([{ progress: 1, total: 2 }]);
    expect(notes).toEqual(['notifications/message']);
  });

  it('reads a JSON body sent as one message per line (notifications first, then the response)', async () => {
    const lines = (id: number) =>
      `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } })}\n${JSON.stringify({ jsonrpc: '2.0', id, result: { content: [] } })}`;
    const { fetch } = fakeFetch((s) => new Response(lines(s.body.id), { status: 200, headers: { 'content-type': 'application/json' } }));
    const client = new StatelessUpstreamClient(new URL('https://up.example/mcp'), {}, fetch, { name: 'g', version: '1' });
    const notes: string[] = [];
    expect(await client.request('tools/call', { name: 't' }, { capabilities: {}, timeoutMs: 1000, onnotification: (n) => notes.push(n.method) })).toEqual({
      content: [],
    });
    expect(notes).toEqual(['notifications/message']);
  });

  it('an error answer keeps the server’s code, message and data whatever the HTTP status', async () => {
    const { fetch } = fakeFetch((s) =>
      json(400, { jsonrpc: '2.0', id: s.body.id, error: { code: -32021, message: 'Missing', data: { requiredCapabilities: { sampling: {} } } } }),
    );
    const client = new StatelessUpstreamClient(new URL('https://up.example/mcp'), {}, fetch, { name: 'g', version: '1' });
    const error = await client.request('tools/call', { name: 't' }, { capabilities: {}, timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: -32021, data: { requiredCapabilities: { sampling: {} } } });
  });

  it('an answer that is not JSON-RPC for this request, or a stream that ends without one, is an error, not a result', async () => {
    for (const response of [
      () => json(200, { jsonrpc: '2.0', id: 999, result: {} }),
      () => new Response('<html>', { status: 502, headers: { 'content-type': 'text/html' } }),
      () => new Response('data: {"jsonrpc":"2.0","method":"x"}\n\n', { status: 200, headers: { 'content-type': 'text/event-stream' } }),
      (s: Seen) => json(200, { jsonrpc: '2.0', id: s.body.id, result: [1] }),
    ]) {
      const client = new StatelessUpstreamClient(new URL('https://up.example/mcp'), {}, fakeFetch(response).fetch, { name: 'g', version: '1' });
      await expect(client.request('tools/list', {}, { capabilities: {}, timeoutMs: 1000 })).rejects.toBeInstanceOf(McpError);
    }
  });

  it('times out with RequestTimeout', async () => {
    const fetch = (_url: string | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))),
      );
    const client = new StatelessUpstreamClient(new URL('https://up.example/mcp'), {}, fetch, { name: 'g', version: '1' });
    await expect(client.request('tools/call', { name: 't' }, { capabilities: {}, timeoutMs: 30 })).rejects.toMatchObject({ code: -32001 });
  });

  it('discover: the versions a server of the revision lists; undefined for a session-era server', async () => {
    const modern = new StatelessUpstreamClient(
      new URL('https://up.example/mcp'),
      {},
      fakeFetch((s) =>
        json(200, { jsonrpc: '2.0', id: s.body.id, result: { supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, instructions: 'hi' } }),
      ).fetch,
      { name: 'g', version: '1' },
    );
    expect(await modern.discover(1000)).toEqual({ supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, instructions: 'hi' });
    const legacy = new StatelessUpstreamClient(
      new URL('https://up.example/mcp'),
      {},
      fakeFetch(() => json(400, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: No valid session ID provided' } })).fetch,
      { name: 'g', version: '1' },
    );
    expect(await legacy.discover(1000)).toBeUndefined();
  });

  it('encodes header values: visible ASCII as is, anything else (and the sentinel itself) as base64', () => {
    expect(encodeHeaderValue('get_weather')).toBe('get_weather');
    for (const value of ['café', ' lead', 'trail ', 'line\nbreak', '=?base64?abc?=', '']) {
      const encoded = encodeHeaderValue(value);
      expect(encoded).toMatch(/^=\?base64\?[A-Za-z0-9+/=]*\?=$/);
      expect(Buffer.from(encoded.slice(9, -2), 'base64').toString('utf8')).toBe(value);
    }
  });
});
