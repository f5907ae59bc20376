// Remote MCP upstreams go through the egress guard: a loopback upstream is unreachable unless
// its server lists the range, the refusal is audited, and the upstream sees no request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, startEchoHttp, type EchoHttpUpstream } from '../helpers/e2e.ts';
import { vaultGateway, type VaultGateway } from '../helpers/vault-gateway.ts';

let upstream: EchoHttpUpstream;
let gw: VaultGateway;

beforeAll(async () => {
  upstream = await startEchoHttp();
  const url = new URL(upstream.url);
  gw = await vaultGateway(
    {
      servers: {
        // Loopback, not listed: refused.
        closed: { url: upstream.url, headers: { Authorization: 'Bearer vault:upstream-token' } },
        // The same upstream spelled as an IPv4-mapped address, not listed: refused.
        mapped: { url: `http://[::ffff:7f00:1]:${url.port}${url.pathname}` },
        // Listed: reachable.
        open: { url: upstream.url, egress: { allowAddresses: ['127.0.0.1/32'] } },
      },
      access: [{ allow: { users: ['alice'], servers: ['*'] } }],
    } as never,
    { 'upstream-token': 'ghcanary-upstream-0a1b2c3d4e5f' },
  );
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await cleanup();
});

describe('remote MCP upstreams and the egress guard', () => {
  it('an unlisted loopback upstream is refused and audited; a listed one works', async () => {
    const token = await gw.harness.token('alice');
    const sid = await gw.harness.open(token);
    const { response } = await gw.harness.rpc(token, sid, 'tools/list');
    const names = ((response.result as { tools: { name: string }[] }).tools ?? []).map((t) => t.name);
    expect(names.some((n) => n.startsWith('open__'))).toBe(true);
    expect(names.some((n) => n.startsWith('closed__'))).toBe(false);
    expect(names.some((n) => n.startsWith('mapped__'))).toBe(false);
    const blocked = (await gw.auditBodies()).filter((r) => r.kind === 'egress.blocked').map((r) => r.body.egress as Record<string, unknown>);
    expect(blocked).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ purpose: 'mcp server closed', address: '127.0.0.1', class: 'loopback' }),
        expect.objectContaining({ purpose: 'mcp server mapped', class: 'loopback', via: ['ipv4Mapped'] }),
      ]),
    );
    // Only the listed server's requests reached the upstream, and never the refused server's token.
    const seen = await upstream.seenHeaders();
    expect(seen.length).toBeGreaterThan(0);
    expect(JSON.stringify(seen)).not.toContain('ghcanary-upstream');
  });
});
