// A sandboxed stdio upstream with `sandbox.network: egress`: its own empty network namespace,
// and HTTP(S)_PROXY pointing at the gateway's CONNECT proxy, which applies the server's egress
// allow-list and address checks (one server: its tools are not prefixed). An allowed host is reached; every other destination, and
// every direct connection, is not.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBubblewrap } from '../helpers/bubblewrap.ts';
import { startFakeApi, type FakeApi } from '../helpers/fake-http-api.ts';
import { vaultGateway, type VaultGateway } from '../helpers/vault-gateway.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PROBE = path.join(ROOT, 'test/fixtures/egress-probe-server.mjs');

let api: FakeApi;
let gw: VaultGateway;
let session: { token: string; sid: string } | undefined;

async function call(tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (!session) {
    const token = await gw.harness.token('alice');
    session = { token, sid: await gw.harness.open(token) };
  }
  const { response } = await gw.harness.rpc(session.token, session.sid, 'tools/call', { name: tool, arguments: args });
  const result = (response as { result?: { content: { text: string }[] } }).result;
  expect(result, JSON.stringify(response)).toBeDefined();
  return JSON.parse(result?.content[0]?.text ?? '{}') as Record<string, unknown>;
}

beforeAll(async () => {
  await ensureBubblewrap({ install: true });
  api = await startFakeApi();
  gw = await vaultGateway(
    {
      servers: {
        probe: {
          command: process.execPath,
          args: [PROBE],
          sandbox: { mode: 'required', network: 'egress' },
          egress: { allow: ['127.0.0.1'], allowAddresses: ['127.0.0.1/32'] },
        },
      },
      access: [{ allow: { users: ['alice'], servers: ['*'] } }],
    } as never,
    {},
  );
  for (const connector of gw.assembly.connectors.values()) await connector.start();
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await api?.close();
});

describe('sandbox.network: egress', () => {
  it('the program is started with the proxy variables set', async () => {
    expect(await call('proxy', {})).toMatchObject({ https: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), node: '1' });
  });

  it('an allowed host is reachable through the proxy', async () => {
    const before = api.requests.length;
    const out = await call('get', { url: `http://127.0.0.1:${api.port}/v1/invoices` });
    expect(out).toMatchObject({ ok: true, status: 200 });
    expect(String(out.body)).toContain('inv-1');
    expect(api.requests.length).toBe(before + 1);
  });

  it('a host outside the allow-list, a metadata address and a name for loopback are refused, and nothing arrives', async () => {
    const before = api.requests.length;
    for (const url of [`http://localhost:${api.port}/v1/invoices`, 'http://169.254.169.254/latest/meta-data/', `http://127.0.0.2:${api.port}/v1/invoices`]) {
      const out = await call('get', { url });
      expect(out, url).toMatchObject({ ok: false });
    }
    expect(api.requests.length).toBe(before);
    const records = await gw.auditBodies();
    expect(records.filter((r) => r.kind === 'egress.blocked').map((r) => JSON.stringify(r.body))).toEqual(
      expect.arrayContaining([expect.stringContaining('localhost'), expect.stringContaining('169.254.169.254')]),
    );
  });

  it('a direct connection, bypassing the proxy, goes nowhere', async () => {
    const before = api.requests.length;
    expect(await call('direct', { host: '127.0.0.1', port: api.port })).toMatchObject({ ok: false });
    expect(await call('direct', { host: '1.1.1.1', port: 443 })).toMatchObject({ ok: false });
    expect(api.requests.length).toBe(before);
  });
});
