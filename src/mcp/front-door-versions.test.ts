import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeConnector } from '../../test/helpers/fake-connector.js';
import { Harness } from '../../test/helpers/gateway-harness.js';

/**
 * Session era: the MCP-Protocol-Version header may name any supported session-era revision; the
 * revision the session negotiated decides the rules (batches), not the header.
 */
describe('front door, session era: the negotiated revision decides, not the header', () => {
  let h: Harness;
  let echo: FakeConnector;
  let token: string;

  beforeEach(async () => {
    echo = new FakeConnector('echo', [{ name: 'say' }]);
    h = await Harness.create({ servers: { echo: { command: 'unused' } }, access: [{ allow: { users: ['alice'], servers: ['echo'] } }] }, [echo]);
    token = await h.token('alice');
  });
  afterEach(async () => h.close());

  it('three concurrent calls on a 2025-11-25 session, sent with a 2025-03-26 header, all succeed', async () => {
    const sid = await h.open(token, '2025-11-25');
    const results = await Promise.all(
      [1, 2, 3].map((n) => h.rpc(token, sid, 'tools/call', { name: 'say', arguments: { n } }, { 'mcp-protocol-version': '2025-03-26' })),
    );
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.response.result).toBeDefined();
    }
    expect(echo.calls).toHaveLength(3);
  });

  it('the same header does not let that session send a batch: 400, nothing runs', async () => {
    const sid = await h.open(token, '2025-11-25');
    const res = await h.post(token, [{ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'say', arguments: {} } }], {
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-03-26',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: -32600, data: { code: 'mcp.batch_not_supported' } } });
    expect(echo.calls).toEqual([]);
  });

  it('a session that negotiated 2025-03-26 may batch whatever supported header it sends', async () => {
    const sid = await h.open(token, '2025-03-26');
    const res = await h.post(token, [{ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'say', arguments: {} } }], {
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
    });
    expect(res.status).toBe(200);
    expect(echo.calls).toHaveLength(1);
  });

  for (const version of ['2024-11-05', '2026-07-28', 'garbage']) {
    it(`a header naming ${version}, which no session speaks, is a 400 and nothing runs`, async () => {
      const sid = await h.open(token, '2025-11-25');
      const r = await h.rpc(token, sid, 'tools/call', { name: 'say', arguments: {} }, { 'mcp-protocol-version': version });
      expect(r.status).toBe(400);
      expect(r.response).toMatchObject({ error: { code: -32000, data: { code: 'mcp.bad_protocol_version' } } });
      expect(echo.calls).toEqual([]);
    });
  }
});
