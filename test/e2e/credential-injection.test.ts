// Credential injection with the real `gatehouse` process: a vault secret reaches exactly the
// stdio child whose config names it (as an environment variable) and the remote upstream
// whose headers name it — never the gateway's own environment, another child, a log line, an
// audit record, the data dir, or the agent.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatehouse, GatewayProcess, ROOT } from '../helpers/cli-process.ts';

const PROBE = path.join(ROOT, 'test', 'fixtures', 'credential-probe.mjs');
const CANARY = `canary-api-key-${randomBytes(12).toString('hex')}`;
const REMOTE_TOKEN = `canary-remote-token-${randomBytes(12).toString('hex')}`;
const LATE = `canary-late-${randomBytes(12).toString('hex')}`;
const MEMORY = `canary-memory-${randomBytes(12).toString('hex')}`;

let root: string;
let env: NodeJS.ProcessEnv;
let remote: Server;
const remoteAuthorization: string[] = [];
const processes: GatewayProcess[] = [];

function report(file: string): { pid: number; env: Record<string, string> } {
  return JSON.parse(readFileSync(file, 'utf8')) as { pid: number; env: Record<string, string> };
}

function environ(pid: number): string {
  return readFileSync(`/proc/${pid}/environ`).toString('utf8');
}

/**
 * The host pids of a probe (its sandbox's bubblewrap and the probe itself, or the probe alone
 * when unconfined): the pid a sandboxed probe reports is its own PID namespace's.
 */
function probePids(reportFile: string): number[] {
  const pids = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
  return pids.filter((pid) => {
    try {
      return environ(pid).split('\0').includes(`REPORT_FILE=${reportFile}`);
    } catch {
      return false;
    }
  });
}

/** Every host process of the probe writing `reportFile`: there is at least one. */
function probeEnvirons(reportFile: string): string[] {
  const pids = probePids(reportFile);
  expect(pids.length).toBeGreaterThan(0);
  return pids.map(environ);
}

function filesText(dir: string): string {
  return readdirSync(dir)
    .map((f) => readFileSync(path.join(dir, f)).toString('latin1'))
    .join('\n');
}

async function until(check: () => boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return check();
}

function probe(name: string, extraEnv: Record<string, string>): string {
  return [
    `  ${name}:`,
    `    command: ${process.execPath}`,
    `    args: [${PROBE}]`,
    `    env: { ${Object.entries({ REPORT_FILE: path.join(root, `${name}.json`), ...extraEnv })
      .map(([k, v]) => `${k}: "${v}"`)
      .join(', ')} }`,
    // The report is written into the test folder; the sandbox still hides the data dir and key in it.
    `    sandbox: { writable: [${root}] }`,
  ].join('\n');
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'gh-inject-'));
  env = { PATH: process.env.PATH, HOME: path.join(root, 'home') };
  remote = createServer((req, res) => {
    remoteAuthorization.push(String(req.headers.authorization ?? ''));
    const server = new McpServer({ name: 'remote', version: '1.0.0' });
    server.registerTool('ping', { description: 'pong', inputSchema: {} }, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
  const port = (remote.address() as AddressInfo).port;
  for (const [name, value] of [
    ['api-key', CANARY],
    ['remote-token', REMOTE_TOKEN],
  ]) {
    const put = await gatehouse(['vault', 'put', name as string, '--data-dir', path.join(root, 'data')], { stdin: value, env });
    expect(put.code, put.stderr).toBe(0);
  }
  writeFileSync(
    path.join(root, 'gatehouse.yaml'),
    [
      'servers:',
      probe('probe_a', { API_KEY: 'vault:api-key', ECHO_TO_STDERR: 'API_KEY' }),
      probe('probe_b', { ECHO_TO_STDERR: 'API_KEY' }),
      probe('late', { LATE_KEY: 'vault:late-key' }),
      '  remote:',
      `    url: http://127.0.0.1:${port}/mcp`,
      '    headers: { Authorization: "Bearer vault:remote-token" }',
      '    egress: { allowAddresses: [127.0.0.1/32] }',
      'upstream: { restartBackoffInitial: 100ms, restartBackoffMax: 500ms }',
      'access:',
      "  - allow: { users: [alice], servers: ['*'] }",
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const p of processes) await p.stop().catch(() => undefined);
  await new Promise((resolve) => remote?.close(resolve));
});

describe('credential injection', () => {
  let gw: GatewayProcess;
  const agentSaw: string[] = [];

  it('starts with secrets resolved for the children and the remote upstream that name them', async () => {
    gw = await GatewayProcess.start(['--config', path.join(root, 'gatehouse.yaml'), '--data-dir', path.join(root, 'data'), '--port', '0'], { env });
    processes.push(gw);
    expect(await until(() => existsSync(path.join(root, 'probe_a.json')) && existsSync(path.join(root, 'probe_b.json')))).toBe(true);
    const a = report(path.join(root, 'probe_a.json'));
    // The child gets exactly its configured variables plus PATH, the secret among them; the
    // hardening preload (LD_PRELOAD keeps it non-dumpable) and bubblewrap's PWD are all that is added.
    expect(Object.keys(a.env).sort()).toEqual(['API_KEY', 'ECHO_TO_STDERR', 'LD_PRELOAD', 'PATH', 'PWD', 'REPORT_FILE']);
    expect(a.env.API_KEY).toBe(CANARY);
    for (const text of probeEnvirons(path.join(root, 'probe_a.json'))) expect(text).toContain(`API_KEY=${CANARY}`);
  });

  it('the gateway process environment and the other child never hold it', () => {
    expect(environ(gw.pid)).not.toContain(CANARY);
    expect(environ(gw.pid)).not.toContain(REMOTE_TOKEN);
    const b = report(path.join(root, 'probe_b.json'));
    expect(JSON.stringify(b)).not.toContain(CANARY);
    for (const text of probeEnvirons(path.join(root, 'probe_b.json'))) {
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(REMOTE_TOKEN);
    }
  });

  it('a secret added with the CLI reaches a waiting server without a restart', async () => {
    expect(existsSync(path.join(root, 'late.json'))).toBe(false);
    expect(gw.stderr).toContain('vault secret \\"late-key\\" does not exist');
    const put = await gatehouse(['vault', 'put', 'late-key', '--data-dir', path.join(root, 'data')], { stdin: LATE, env });
    expect(put.code).toBe(0);
    expect(await until(() => existsSync(path.join(root, 'late.json')))).toBe(true);
    expect(report(path.join(root, 'late.json')).env.LATE_KEY).toBe(LATE);
  });

  it('the remote upstream receives its secret as a header', async () => {
    const token = (await gatehouse(['token', 'issue', '--data-dir', path.join(root, 'data'), '--sub', 'alice'], { env })).stdout.trim();
    const client = await gw.client(token);
    const tools = await client.listTools();
    agentSaw.push(JSON.stringify(tools));
    const pong = await client.callTool({ name: 'remote__ping', arguments: {} });
    agentSaw.push(JSON.stringify(pong));
    expect(pong.content).toEqual([{ type: 'text', text: 'pong' }]);
    expect(remoteAuthorization.length).toBeGreaterThan(0);
    expect(new Set(remoteAuthorization)).toEqual(new Set([`Bearer ${REMOTE_TOKEN}`]));
    // A child echoing its key back in a tool result does not hand it to the agent.
    const echoed = await client.callTool({ name: 'probe_a__show_env', arguments: { name: 'API_KEY' } });
    agentSaw.push(JSON.stringify(echoed));
    expect(echoed.content).toEqual([{ type: 'text', text: 'API_KEY=[REDACTED:vault]' }]);
    await client.close();
  });

  it('a child logging its key on stderr is redacted in the gateway log', () => {
    expect(gw.stderr).toContain('debug: API_KEY=[REDACTED]');
    expect(gw.stderr).not.toContain(CANARY);
  });

  it('vault list records who used what, without values', async () => {
    const list = await gatehouse(['vault', 'list', '--data-dir', path.join(root, 'data'), '--json'], { env });
    const secrets = (JSON.parse(list.stdout) as { secrets: { name: string; usedBy: string[]; lastUsedAt: string | null }[] }).secrets;
    expect(secrets.find((s) => s.name === 'api-key')?.usedBy).toEqual(['servers.probe_a.env.API_KEY']);
    expect(secrets.find((s) => s.name === 'remote-token')?.usedBy).toEqual(['servers.remote.headers.Authorization']);
    expect(secrets.every((s) => s.lastUsedAt !== null)).toBe(true);
    expect(list.stdout).not.toContain(CANARY);
  });

  it('no log line, audit record, data file or agent-visible response holds any of the secrets', async () => {
    await gw.stop();
    const everything = [gw.stdout, gw.stderr, filesText(path.join(root, 'data')), agentSaw.join('\n')].join('\n');
    for (const secret of [CANARY, REMOTE_TOKEN, LATE]) expect(everything).not.toContain(secret);
    const uses = await gatehouse(['audit', 'query', '--data-dir', path.join(root, 'data'), '--kind', 'vault.use', '--json'], { env });
    expect(uses.stdout).toContain('servers.probe_a.env.API_KEY');
    expect(await gatehouse(['audit', 'verify', '--data-dir', path.join(root, 'data')], { env })).toMatchObject({ code: 0 });
  });

  it('memory-only mode: a secret given on a file descriptor is used, never written, gone at exit', async () => {
    const dataDir = path.join(root, 'memory-data');
    const config = path.join(root, 'memory.yaml');
    writeFileSync(config, ['servers:', probe('mem', { MEM_KEY: 'vault:mem-key', ECHO_TO_STDERR: 'MEM_KEY' }), 'access: []', ''].join('\n'));
    // A HOME without any master key: memory-only secrets need none.
    const memEnv = { ...env, HOME: path.join(root, 'memory-home') };
    const mem = await GatewayProcess.start(['--config', config, '--data-dir', dataDir, '--port', '0', '--secrets-fd', '3'], {
      env: memEnv,
      fd3: `mem-key=${MEMORY}\n`,
    });
    processes.push(mem);
    expect(await until(() => existsSync(path.join(root, 'mem.json')))).toBe(true);
    expect(report(path.join(root, 'mem.json')).env.MEM_KEY).toBe(MEMORY);
    expect(environ(mem.pid)).not.toContain(MEMORY);
    for (const text of probeEnvirons(path.join(root, 'mem.json'))) expect(text).toContain(`MEM_KEY=${MEMORY}`);
    expect(mem.stderr).toContain('memory-only secrets');
    await mem.stop();
    expect(filesText(dataDir)).not.toContain(MEMORY);
    expect(mem.stdout + mem.stderr).not.toContain(MEMORY);
    const list = await gatehouse(['vault', 'list', '--data-dir', dataDir, '--json'], { env: memEnv });
    expect(JSON.parse(list.stdout).secrets).toEqual([]);
    expect(existsSync(path.join(root, 'memory-home', '.config', 'gatehouse', 'master.key'))).toBe(false);
  });
});
