import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeConnector } from '../../test/helpers/fake-connector.js';
import { Harness } from '../../test/helpers/gateway-harness.js';

const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'unit', version: '1' },
};

/**
 * How the front door refuses a malformed request of the stateless revision: the status, the
 * JSON-RPC code and the request's id, in a fixed order of checks, and without creating an
 * internal session or reaching an upstream.
 */
describe('front door, stateless revision: refusals', () => {
  let h: Harness;
  let echo: FakeConnector;
  let token: string;
  let nextId = 100;

  beforeEach(async () => {
    echo = new FakeConnector('echo', [{ name: 'say' }]);
    h = await Harness.create({ servers: { echo: { command: 'unused' } }, access: [{ allow: { users: ['alice'], servers: ['echo'] } }] }, [echo]);
    token = await h.token('alice');
  });
  afterEach(async () => h.close());

  const send = async (method: string, params: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const id = nextId++;
    // Mcp-Name belongs to the methods that name a target, and only to them.
    const name = ({ 'tools/call': params.name, 'prompts/get': params.name, 'resources/read': params.uri } as Record<string, unknown>)[method] as
      | string
      | undefined;
    const res = await h.post(
      token,
      { jsonrpc: '2.0', id, method, params },
      { 'mcp-protocol-version': MODERN, 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}), ...headers },
    );
    return { id, status: res.status, body: (await res.json()) as { id: unknown; error?: { code: number; message: string; data: Record<string, unknown> } } };
  };
  const nothingHappened = () => {
    expect(h.assembly.sessions.size).toBe(0);
    expect(echo.calls).toEqual([]);
  };

  describe('_meta must carry the protocol version and the client capabilities: -32602 on 400', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['no _meta', {}],
      ['no protocol version', { _meta: { 'io.modelcontextprotocol/clientCapabilities': {} } }],
      ['no client capabilities', { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } }],
    ];
    for (const [label, params] of cases) {
      for (const method of ['server/discover', 'tools/call']) {
        it(`${method} with ${label}`, async () => {
          const { id, status, body } = await send(method, method === 'tools/call' ? { ...params, name: 'say', arguments: {} } : params);
          expect(status).toBe(400);
          expect(body.id).toBe(id);
          expect(body.error?.code).toBe(-32602);
          expect(body.error?.message).toMatch(/^Invalid params: _meta/);
          expect(body.error?.data.code).toBe('mcp.invalid_request_meta');
          nothingHappened();
        });
      }
    }
  });

  it('client info is optional', async () => {
    const { status, body } = await send('server/discover', {
      _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} },
    });
    expect(status).toBe(200);
    expect(body.error).toBeUndefined();
  });

  it('a header that contradicts the body is a mismatch (-32020) even when the body names an unknown version', async () => {
    const { id, status, body } = await send('server/discover', { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '1999-01-01' } });
    expect(status).toBe(400);
    expect(body).toMatchObject({ id, error: { code: -32020, data: { code: 'mcp.header_mismatch' } } });
    nothingHappened();
  });

  it('an unknown version named by both is -32022 listing exactly what server/discover lists, echoing the request', async () => {
    const discovered = await send('server/discover', { _meta: META });
    const supportedVersions = (discovered.body as unknown as { result: { supportedVersions: string[] } }).result.supportedVersions;
    await h.close();
    h = await Harness.create({ servers: { echo: { command: 'unused' } }, access: [{ allow: { users: ['alice'], servers: ['echo'] } }] }, [echo]);
    token = await h.token('alice');
    const { id, status, body } = await send(
      'server/discover',
      { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } },
      { 'mcp-protocol-version': 'v999.0.0' },
    );
    expect(status).toBe(400);
    expect(body).toMatchObject({ id, error: { code: -32022, data: { code: 'mcp.unsupported_protocol_version', requested: 'v999.0.0' } } });
    expect(body.error?.data.supported).toEqual(supportedVersions);
    nothingHappened();
  });

  for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'unknown/method', 'tasks/get']) {
    it(`${method} is not a method of the revision: 404 with -32601 and the request's id`, async () => {
      const { id, status, body } = await send(method, { _meta: META, uri: method.startsWith('resources/') ? 'echo://x' : undefined });
      expect(status).toBe(404);
      expect(body).toMatchObject({ id, error: { code: -32601, data: { code: 'mcp.method_not_found' } } });
      expect(body.error?.message).toBe(`Method not found in protocol version ${MODERN}`);
      nothingHappened();
    });
  }

  it('the session era still has ping and logging/setLevel', async () => {
    const sid = await h.open(token);
    expect((await h.rpc(token, sid, 'ping')).response).toMatchObject({ result: {} });
    expect((await h.rpc(token, sid, 'logging/setLevel', { level: 'error' })).response).toMatchObject({ result: {} });
  });
});
