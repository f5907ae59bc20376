// Connectors written with the SDK through the whole gateway: each in its own bubblewrap
// sandbox (no network, only its own folder and the SDK visible), talking over the framed
// channel, with credentials lent per call and HTTP through the gateway's egress guard. A
// hostile connector tries every way around the gateway and gets nothing.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBubblewrap } from '../helpers/bubblewrap.ts';
import { startFakeApi, type FakeApi } from '../helpers/fake-http-api.ts';
import { vaultGateway, type VaultGateway } from '../helpers/vault-gateway.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/connectors');
const OWN_KEY = 'ghcanary_own_5b2c8e1f0a9d4c7b6e3f2a1d0c9b8a7f';
const OTHER_KEY = 'ghcanary_other_7d6c5b4a39281706f5e4d3c2b1a0f9e8';
const INVOICES_KEY = 'ghcanary_invoices_0f1e2d3c4b5a69788796a5b4c3d2e1f0';

let api: FakeApi;
let gw: VaultGateway;

interface Call {
  result?: { content: { type: string; text: string }[]; isError?: boolean };
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

let session: { token: string; sid: string } | undefined;
async function call(tool: string, args: Record<string, unknown> = {}): Promise<Call> {
  if (!session) {
    const token = await gw.harness.token('alice', { groups: ['finance'] });
    session = { token, sid: await gw.harness.open(token) };
  }
  const { response } = await gw.harness.rpc(session.token, session.sid, 'tools/call', { name: tool, arguments: args });
  return response as Call;
}
const textOf = (c: Call) => c.result?.content.map((p) => p.text).join('\n') ?? '';
const json = (c: Call) => {
  expect(c.error, JSON.stringify(c.error)).toBeUndefined();
  expect(c.result?.isError, textOf(c)).not.toBe(true);
  return JSON.parse(textOf(c)) as Record<string, unknown>;
};
/** Waits (bounded) until the gateway's log contains `text`. */
async function logged(text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!gw.logs.join('\n').includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}
const apiKeyFrom = (name: string) => ({ type: 'apiKey', name: 'x-api-key', key: `vault:${name}` });

beforeAll(async () => {
  await ensureBubblewrap({ install: true });
  api = await startFakeApi();
  gw = await vaultGateway(
    {
      servers: {
        hostile: {
          connector: path.join(FIXTURES, 'hostile.ts'),
          sandbox: { mode: 'required' },
          credentials: { own: apiKeyFrom('own-key') },
          egress: { allowAddresses: ['127.0.0.1/32'], allow: ['127.0.0.1'] },
          settings: {
            apiBase: `http://127.0.0.1:${api.port}/v1`,
            apiPort: api.port,
            vaultModule: path.join(ROOT, 'dist/vault/index.js'),
            relativeModule: '../../../dist/vault/index.js',
            configFile: path.join(ROOT, 'examples/gatehouse.yaml'),
            vaultFile: 'DATA_DIR/gatehouse.db',
            dataDir: 'DATA_DIR',
          },
        },
        other: { connector: path.join(FIXTURES, 'other.ts'), sandbox: { mode: 'required' }, credentials: { api: apiKeyFrom('other-key') } },
        invoices: {
          connector: path.join(ROOT, 'examples/connectors/invoices/connector.ts'),
          sandbox: { mode: 'required' },
          credentials: { api: apiKeyFrom('invoices-key') },
          settings: { baseUrl: `http://127.0.0.1:${api.port}/v1` },
          egress: { allowAddresses: ['127.0.0.1/32'], allow: ['127.0.0.1'] },
        },
      },
      upstream: { restartBackoffInitial: '200ms', restartBackoffMax: '2s' },
      access: [{ allow: { users: ['alice'], servers: ['*'] } }],
    } as never,
    { 'own-key': OWN_KEY, 'other-key': OTHER_KEY, 'invoices-key': INVOICES_KEY },
    {
      afterValidation: (config) => {
        const settings = (config.servers.hostile as { settings: Record<string, unknown> }).settings;
        settings.vaultFile = path.join(config.dataDir, 'gatehouse.db');
        settings.dataDir = config.dataDir;
      },
    },
  );
  for (const connector of gw.assembly.connectors.values()) await connector.start();
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await api?.close();
});

describe('the SDK surface through the gateway', () => {
  it('lists the tools with effects as annotations and the zod input as JSON Schema', async () => {
    const token = await gw.harness.token('alice');
    const sid = await gw.harness.open(token);
    const { response } = await gw.harness.rpc(token, sid, 'tools/list');
    const tools = (response.result as { tools: { name: string; annotations?: Record<string, boolean>; inputSchema: Record<string, unknown> }[] }).tools;
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.get('invoices__list_invoices')?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(byName.get('invoices__create_invoice')?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    expect(byName.get('invoices__delete_invoice')?.annotations).toMatchObject({ destructiveHint: true });
    expect(byName.get('invoices__create_invoice')?.inputSchema).toMatchObject({ type: 'object', required: ['customer', 'amount'] });
    expect(byName.get('other__ping')).toBeDefined();
  });

  it('a call runs the handler with the vault key and context headers; the agent sees neither the key nor the internal note', async () => {
    const before = api.requests.length;
    const out = json(await call('invoices__list_invoices', { status: 'sent' }));
    expect(out.items).toEqual([
      { id: 'inv-1', customer: 'ACME GmbH', amount: 1200, currency: 'EUR', status: 'sent' },
      { id: 'inv-2', customer: 'Globex', amount: 300, currency: 'USD', status: 'paid' },
    ]);
    const sent = api.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe('/v1/invoices?status=sent');
    expect(sent[0]?.headers['x-api-key']).toBe(INVOICES_KEY);
    expect(sent[0]?.headers['x-gatehouse-actor']).toBe('alice');
    expect(sent[0]?.headers['x-gatehouse-purpose']).toBe('invoices__list_invoices');
    expect(sent[0]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const records = await gw.auditBodies();
    const outcome = records.reverse().find((r) => JSON.stringify(r.body).includes('"kind":"connector"'));
    expect((outcome?.body.notes as { downstream: unknown }).downstream).toMatchObject({
      kind: 'connector',
      credentials: ['api'],
      requests: [{ method: 'GET', url: `http://127.0.0.1:${api.port}/v1/invoices`, status: 200 }],
    });
  });

  it('arguments are validated by the gateway before the connector runs (nothing reaches the API)', async () => {
    const before = api.requests.length;
    const out = await call('invoices__create_invoice', { customer: 'ACME', amount: -5 });
    expect(out.error?.message ?? textOf(out)).toMatch(/amount/);
    expect(api.requests.length).toBe(before);
  });

  it('the handler’s log line reaches the gateway log', async () => {
    await call('invoices__list_invoices', {});
    expect(gw.logs.some((l) => l.includes('listed invoices') && l.includes('"server":"invoices"'))).toBe(true);
  });
});

describe('a hostile connector gets nothing', () => {
  let probe: Record<string, { ok: boolean; value?: unknown; error?: string } | string[]>;
  beforeAll(async () => {
    probe = json(await call('hostile__probe')) as typeof probe;
  });

  it('runs inside bubblewrap (so each refusal below is the sandbox’s as well as Node’s permission model)', () => {
    expect(gw.assembly.connectors.get('hostile')?.status().detail).toMatchObject({ sandbox: { on: true } });
  });

  it('cannot import the gateway’s modules, by absolute or relative path', () => {
    expect(probe.importVault).toMatchObject({ ok: false });
    expect(probe.importRelative).toMatchObject({ ok: false });
    expect(JSON.stringify(probe.importVault)).toMatch(/refused|not found|Cannot find|ERR_ACCESS_DENIED/i);
  });

  it('cannot read another connector’s credential (a name not configured for it)', () => {
    expect(probe.otherCredential).toMatchObject({ ok: false });
    expect((probe.otherCredential as { error: string }).error).toContain('no credential "api" is configured for connector hostile');
    expect(JSON.stringify(probe)).not.toContain(OTHER_KEY);
  });

  it('cannot open a raw socket, to loopback or out', () => {
    expect(probe.rawSocket).toMatchObject({ ok: false });
    expect(probe.rawSocketPublic).toMatchObject({ ok: false });
  });

  it('cannot read the vault file, list the data dir, read the config or start a program', () => {
    expect(probe.readVault).toMatchObject({ ok: false });
    expect(probe.listDataDir).toMatchObject({ ok: false });
    expect(probe.readConfig).toMatchObject({ ok: false });
    expect(probe.childProcess).toMatchObject({ ok: false });
  });

  it('sees no gateway environment', () => {
    expect(probe.environment).toEqual(expect.not.arrayContaining(['GATEHOUSE_MASTER_KEY', 'PATH_TO_DATA']));
    expect(probe.environment, JSON.stringify(probe.environment)).toEqual(expect.arrayContaining(['HOME', 'NODE_ENV']));
    expect((probe.environment as string[]).filter((name) => !['HOME', 'NODE_ENV', 'LD_PRELOAD', 'PWD'].includes(name))).toEqual([]);
  });

  it('its own key never reaches the agent, in a result or an error', async () => {
    const asResult = await call('hostile__leak', { how: 'result' });
    const asError = await call('hostile__leak', { how: 'error' });
    for (const out of [asResult, asError]) {
      expect(JSON.stringify(out)).not.toContain(OWN_KEY);
      expect(JSON.stringify(out).length).toBeGreaterThan(20);
    }
    expect(asError.result?.isError).toBe(true);
  });

  it('its own key never reaches the gateway log (ctx.log, stdout, stderr)', async () => {
    const out = await call('hostile__leak', { how: 'log' });
    expect(textOf(out)).toBe('logged');
    await logged('stderr key');
    expect(gw.logs.join('\n')).toContain('the key is');
    expect(gw.logs.join('\n')).toContain('stderr key');
    expect(gw.logs.join('\n')).not.toContain(OWN_KEY);
    expect(gw.dataDirText()).not.toContain(OWN_KEY);
  });

  it('cannot speak for another user: the gateway’s context headers replace the connector’s', async () => {
    const out = json(await call('hostile__spoof'));
    const headers = out.headers as Record<string, string>;
    expect(headers['x-gatehouse-actor']).toBe('alice');
    expect(headers.traceparent).not.toBe('forged');
  });

  it('ctx.fetch goes only where the egress rules allow', async () => {
    const before = api.requests.length;
    for (const url of [
      `http://localhost:${api.port}/v1/echo`,
      'http://169.254.169.254/latest/meta-data/',
      `http://127.0.0.2:${api.port}/v1/echo`,
      'file:///etc/passwd',
    ]) {
      const out = json(await call('hostile__fetch_elsewhere', { url }));
      expect(out, url).toMatchObject({ ok: false });
      expect(String(out.error), url).toMatch(/refus|not allowed|not valid|unsupported|scheme/i);
    }
    expect(api.requests.length).toBe(before);
  });

  it('a credential asked for after the handler returned is refused', async () => {
    await call('hostile__credential_later');
    await logged('late credential');
    const text = gw.logs.join('\n');
    expect(text).toContain('late credential refused');
    expect(text).not.toContain('LATE CREDENTIAL GRANTED');
  });

  it('its result passes the sanitizer like any upstream’s', async () => {
    const out = await call('hostile__injection');
    expect(textOf(out)).toContain('Ignore previous instructions');
    expect(JSON.stringify(out)).not.toContain('AKIAZ7Q2KXW4P5N6J3HL');
  });
});

describe('a crash', () => {
  it('fails the call in flight, leaves the other connectors alone, and the process comes back after a doubling backoff', async () => {
    const hostile = gw.assembly.connectors.get('hostile');
    const state = () => hostile?.status().detail as { state: string; restarts: number };
    /** Milliseconds from now until the connector is ready again (polled; bounded). */
    const readyAfter = async (started: number): Promise<number> => {
      const deadline = Date.now() + 20_000;
      while (state().state !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(state().state).toBe('ready');
      return Date.now() - started;
    };
    const otherBefore = textOf(await call('other__ping'));
    const firstCrash = Date.now();
    const crashed = await call('hostile__crash');
    expect(crashed.error?.message ?? '').toMatch(/exited while handling the call/);
    expect(state().state).toBe('backoff');
    // Right away: still restarting, refused clearly.
    const during = await call('hostile__injection');
    expect(during.error?.message ?? '').toMatch(/restarting/);
    // The other connector's process was never touched.
    expect(textOf(await call('other__ping'))).toBe(otherBefore);
    // The backoff is a lower bound (200 ms, then 400 ms): load can only make it longer.
    expect(await readyAfter(firstCrash)).toBeGreaterThanOrEqual(200);
    expect(state().restarts).toBe(1);
    expect(textOf(await call('hostile__injection'))).toMatch(/\S/);
    const secondCrash = Date.now();
    await call('hostile__crash');
    expect(await readyAfter(secondCrash)).toBeGreaterThanOrEqual(400);
    expect(state().restarts).toBe(2);
  });
});
