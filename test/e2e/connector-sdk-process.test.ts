// SDK connectors under the real `gatehouse start` process: each connector in its own process
// (two connectors, two processes, neither the gateway), the key from the vault reaching the API
// and nothing else, a connector killed from outside coming back while the other keeps serving.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBubblewrap } from '../helpers/bubblewrap.ts';
import { cleanup, cli, connectClient, type GatewayProcess, ROOT, startGateway, tempDir, text, waitFor } from '../helpers/e2e.ts';
import { startFakeApi, type FakeApi } from '../helpers/fake-http-api.ts';

const KEY = 'ghcanary_proc_3c2b1a0f9e8d7c6b5a4938271605f4e3';
const EXAMPLE = path.join(ROOT, 'examples/connectors/invoices/connector.ts');
const OTHER = path.join(ROOT, 'test/fixtures/connectors/other.ts');

let api: FakeApi;
let gw: GatewayProcess;
let client: Client;
let env: NodeJS.ProcessEnv;

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Whether `pid` descends from this test's gateway (other test files run connectors too). */
function underGateway(pid: number): boolean {
  for (let at: number | undefined = pid, hops = 0; at && at > 1 && hops < 16; at = parentOf(at), hops++) if (at === gw.pid) return true;
  return false;
}

/** Host pids of this gateway's Node processes running `file` through the SDK host (not their bubblewrap). */
function connectorPids(file: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv[0]?.endsWith('/node') === true && argv.some((a) => a.endsWith('/host.js')) && argv.includes(file) && underGateway(pid);
      } catch {
        return false;
      }
    });
}

async function call(name: string, args: Record<string, unknown> = {}) {
  return client.callTool({ name, arguments: args });
}

beforeAll(async () => {
  await ensureBubblewrap({ install: true });
  api = await startFakeApi();
  const root = tempDir('gh-sdk-proc-');
  env = { ...process.env, HOME: path.join(root, 'home'), XDG_CONFIG_HOME: path.join(root, 'config') };
  delete env.GATEHOUSE_MASTER_KEY;
  delete env.GATEHOUSE_MASTER_KEY_FILE;
  const dataDir = path.join(root, 'data');
  const put = await cli(['vault', 'put', 'invoices-key', '--data-dir', dataDir], { env, input: KEY });
  expect(put.code, put.stderr).toBe(0);
  gw = await startGateway({
    dataDir,
    env: env as Record<string, string>,
    config: {
      servers: {
        invoices: {
          connector: EXAMPLE,
          sandbox: { mode: 'required' },
          credentials: { api: { type: 'apiKey', name: 'x-api-key', key: 'vault:invoices-key' } },
          settings: { baseUrl: `http://127.0.0.1:${api.port}/v1` },
          egress: { allow: ['127.0.0.1'], allowAddresses: ['127.0.0.1/32'] },
        },
        other: { connector: OTHER, sandbox: { mode: 'required' } },
      },
      upstream: { restartBackoffInitial: '300ms', restartBackoffMax: '5s' },
      access: [{ allow: { users: ['alice'], servers: ['*'] } }],
    },
  });
  client = await connectClient(gw, await gw.token('alice'));
}, 90_000);

afterAll(async () => {
  await client?.close();
  await gw?.stop();
  await api?.close();
  await cleanup();
});

describe('SDK connectors in the real gateway', () => {
  it('each connector is its own process, neither the gateway', async () => {
    const invoices = await waitFor(() => connectorPids(EXAMPLE)[0], 'invoices connector process');
    const other = await waitFor(() => connectorPids(OTHER)[0], 'other connector process');
    expect(connectorPids(EXAMPLE)).toHaveLength(1);
    expect(connectorPids(OTHER)).toHaveLength(1);
    expect(new Set([invoices, other, gw.pid]).size).toBe(3);
  });

  it('a call lists invoices with the vault key, which reaches the API and no agent output, log or data file', async () => {
    const before = api.requests.length;
    const result = await call('invoices__list_invoices', { status: 'paid' });
    expect(result.isError).not.toBe(true);
    expect(JSON.parse(text(result))).toMatchObject({ items: [{ id: 'inv-1' }, { id: 'inv-2' }] });
    const sent = api.requests.slice(before);
    expect(sent.map((r) => [r.url, r.headers['x-api-key'], r.headers['x-gatehouse-actor']])).toEqual([['/v1/invoices?status=paid', KEY, 'alice']]);
    expect(JSON.stringify(result)).not.toContain(KEY);
    expect(gw.stderr).not.toContain(KEY);
    expect(gw.stdout).not.toContain(KEY);
    for (const file of readdirSync(gw.dataDir)) expect(readFileSync(path.join(gw.dataDir, file)).toString('latin1'), file).not.toContain(KEY);
  });

  it('gatehouse status shows each connector, its process and its sandbox', async () => {
    const status = await cli(['status', '--config', gw.configPath, '--data-dir', gw.dataDir], { env });
    expect(status.code, status.stderr).toBe(0);
    // The pid is the process the gateway started (bubblewrap, around the connector's Node).
    expect(status.stdout).toMatch(/invoices: ready \(connector ready, pid \d+, 3 tools\)/);
    expect(status.stdout).toMatch(/sandbox invoices: on \(bubblewrap [^;]+; no network\)/);
    expect(status.stdout).toMatch(/other: ready \(connector ready, pid \d+, 1 tools\)/);
  });

  it('a connector killed from outside fails nothing else and is started again', async () => {
    const [pid] = connectorPids(OTHER);
    expect(pid).toBeDefined();
    process.kill(pid as number, 'SIGKILL');
    await gw.waitForLog((l) => l.msg === 'connector process exited; restarting after backoff' && l.server === 'other', 'other exited');
    // The invoices connector, a different process, serves throughout.
    expect((await call('invoices__list_invoices', {})).isError).not.toBe(true);
    const next = await waitFor(() => connectorPids(OTHER).find((p) => p !== pid), 'a new other process', 15_000);
    expect(next).not.toBe(pid);
    await gw.waitForLog((l) => l.msg === 'connector ready' && l.server === 'other' && l.pid !== undefined, 'other ready again');
    await waitFor(async () => text(await call('other__ping').catch(() => ({ content: [] }))).startsWith('pong'), 'other answers again', 10_000);
  });
});
