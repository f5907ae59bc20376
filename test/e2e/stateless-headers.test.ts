import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, MCP_HEADERS, NODE, ROOT, rawHttp, rpcMessages, startGateway, type GatewayProcess } from '../helpers/e2e.js';

const MODERN = '2026-07-28';
const PARAMS_SERVER = path.join(ROOT, 'test/fixtures/param-header-server.mjs');
const META = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };

/** Request metadata headers against the body: Mcp-Param-* from x-mcp-header, Mcp-Name where nothing is named, notifications. */
describe('stateless request headers beyond method and name', () => {
  let gw: GatewayProcess;
  let token: string;
  let nextId = 1;

  beforeAll(async () => {
    gw = await startGateway({
      config: { servers: { params: { command: NODE, args: [PARAMS_SERVER] } }, access: [{ allow: { users: ['alice'], servers: ['params'] } }] },
    });
    token = await gw.token('alice');
  });
  afterAll(cleanup);

  const post = (method: string, params: Record<string, unknown>, extra: Record<string, string>, id: number | undefined = nextId++) =>
    rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': MODERN, 'mcp-method': method, ...extra },
      body: JSON.stringify({ jsonrpc: '2.0', ...(id === undefined ? {} : { id }), method, params: { ...params, _meta: META } }),
    });
  const sql = (args: Record<string, unknown>, headers: Record<string, string>) =>
    post('tools/call', { name: 'execute_sql', arguments: args }, { 'mcp-name': 'execute_sql', ...headers });
  const count = async () => {
    const res = await post('tools/call', { name: 'count', arguments: {} }, { 'mcp-name': 'count' });
    return Number((rpcMessages(res).at(-1)?.result as { content: { text: string }[] }).content[0]?.text);
  };

  it('runs a call whose Mcp-Param headers mirror its arguments', async () => {
    const res = await sql({ region: 'us-west1', limit: 5, query: 'SELECT 1' }, { 'mcp-param-region': 'us-west1', 'mcp-param-limit': '5' });
    expect(res.status).toBe(200);
    expect(rpcMessages(res).at(-1)).toMatchObject({ result: { content: [{ type: 'text', text: 'ran in us-west1' }] } });
    expect(await count()).toBe(1);
  });

  it('the official 2.x client mirrors the annotated arguments itself, and its call passes', async () => {
    const client = new Client({ name: 'sdk-2', version: '2.4.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    try {
      await client.listTools();
      const result = await client.callTool({ name: 'execute_sql', arguments: { region: 'Zürich', limit: 3, query: 'SELECT 1' } });
      expect(result.content).toEqual([{ type: 'text', text: 'ran in Zürich' }]);
    } finally {
      await client.close();
    }
  });

  for (const [label, args, headers, message] of [
    ['a missing Mcp-Param header', { region: 'us-west1', query: 'q' }, {}, /Mcp-Param-Region header is required/],
    [
      'a header for another region than the body',
      { region: 'us-west1', query: 'q' },
      { 'mcp-param-region': 'eu-west1' },
      /Mcp-Param-Region header does not match/,
    ],
    [
      'a header for an argument the body does not have',
      { region: 'us-west1', query: 'q' },
      { 'mcp-param-region': 'us-west1', 'mcp-param-limit': '9' },
      /Mcp-Param-Limit header does not match/,
    ],
    ['a malformed encoded header', { region: 'us-west1', query: 'q' }, { 'mcp-param-region': '=?base64?%%?=' }, /Mcp-Param-Region header value is malformed/],
  ] as const) {
    it(`refuses ${label} with 400 -32020, and nothing reaches the upstream`, async () => {
      const before = await count();
      const res = await sql(args, headers);
      expect(res.status).toBe(400);
      expect(rpcMessages(res)[0]).toMatchObject({ error: { code: -32020, data: { code: 'mcp.header_mismatch' } } });
      expect(String((rpcMessages(res)[0]?.error as { message: string }).message)).toMatch(message);
      expect(await count()).toBe(before);
    });
  }

  it('refuses an Mcp-Name on a method that names nothing', async () => {
    const res = await post('tools/list', {}, { 'mcp-name': 'execute_sql' });
    expect(res.status).toBe(400);
    expect(rpcMessages(res)[0]).toMatchObject({ error: { code: -32020 } });
  });

  it('accepts a notification without Mcp-Method, and refuses one whose Mcp-Method contradicts it', async () => {
    const plain = await rawHttp(gw.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': MODERN },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 12345, _meta: META } }),
    });
    expect(plain.status).toBe(202);
    const lying = await post('notifications/cancelled', { requestId: 12345 }, { 'mcp-method': 'tools/call' }, undefined);
    expect(lying.status).toBe(400);
  });
});
