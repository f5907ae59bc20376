import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  cleanup,
  CLI,
  cli,
  ECHO_SERVER,
  exited,
  jsonLines,
  NODE,
  spawnTracked,
  startGateway,
  text,
  waitFor,
  type GatewayProcess,
} from '../helpers/e2e.js';

/** `gatehouse stdio`: for MCP clients that can only launch a command. */
describe('gatehouse stdio --token-env', () => {
  let gw: GatewayProcess;
  let token: string;

  beforeAll(async () => {
    gw = await startGateway({
      config: { servers: { echo: { command: NODE, args: [ECHO_SERVER] } }, access: [{ allow: { users: ['alice'], servers: ['echo'] } }] },
    });
    token = await gw.token('alice');
  });
  afterAll(cleanup);

  function bridge(env: Record<string, string>) {
    return new StdioClientTransport({
      command: NODE,
      args: [CLI, 'stdio', '--config', gw.configPath, '--token-env', 'GATEHOUSE_TOKEN'],
      env: { PATH: process.env.PATH ?? '', ...env },
      stderr: 'pipe',
    });
  }

  it('bridges the SDK stdio client to the gateway: list, call and progress work as the token’s user', async () => {
    const transport = bridge({ GATEHOUSE_TOKEN: token });
    const client = new Client({ name: 'stdio-e2e', version: '1.0.0' });
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(expect.arrayContaining(['echo', 'add', 'slow']));
      expect(text(await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }))).toBe('42');
      const progress: Progress[] = [];
      expect(text(await client.callTool({ name: 'slow', arguments: { ms: 150, steps: 3 } }, undefined, { onprogress: (p) => void progress.push(p) }))).toBe(
        'slept 150ms',
      );
      // The last notification can be lost by the SDK client itself when it arrives in the same
      // stdout read as the response (its Protocol handles notifications a microtask late but
      // responses at once; see decisions.md D4). The ones before it must arrive, in order.
      expect(progress.slice(0, 2)).toEqual([
        { progress: 1, total: 3 },
        { progress: 2, total: 3 },
      ]);
    } finally {
      await client.close();
    }
    const intent = await waitFor(() => auditRows(gw.dataDir).find((r) => r.kind === 'call.intent' && r.body.target?.tool === 'echo__add'), 'the add intent');
    expect(intent.body.actor).toMatchObject({ sub: 'alice', client: 'gatehouse-cli' });
  });

  it('exits 0 on its own once the client closes stdin, ending its gateway session (no lingering retries)', async () => {
    const child = spawnTracked(NODE, [CLI, 'stdio', '--config', gw.configPath, '--token-env', 'GATEHOUSE_TOKEN'], {
      env: { PATH: process.env.PATH ?? '', GATEHOUSE_TOKEN: token },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const out = jsonLines(child.stdout);
    const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-stdio', version: '1' } },
    });
    const init = await out.next((m) => m.id === 1, 'the initialize response');
    expect(init).toMatchObject({ result: { protocolVersion: '2025-11-25', serverInfo: { name: 'gatehouse' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'raw stdio' } } });
    expect(await out.next((m) => m.id === 2, 'the call response')).toMatchObject({ result: { content: [{ type: 'text', text: 'raw stdio' }] } });
    const session = await waitFor(
      () => auditRows(gw.dataDir).find((r) => r.kind === 'session.start' && (r.body.clientInfo as { name?: string } | undefined)?.name === 'raw-stdio'),
      'the session start',
    );

    child.stdin.end();
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    expect(stderr).toBe('');
    const end = await waitFor(
      () =>
        auditRows(gw.dataDir).find(
          (r) => r.kind === 'session.end' && (r.body.actor as { session?: string }).session === (session.body.actor as { session?: string }).session,
        ),
      'the session end',
    );
    expect(end.body.reason).toBe('deleted');
  });

  it('exits 1 with a clear message when the token variable is missing or empty, without contacting the gateway', async () => {
    const before = auditRows(gw.dataDir).filter((r) => r.kind === 'session.start' || r.kind === 'auth.failure').length;
    const env = { PATH: process.env.PATH ?? '' };
    const missing = await cli(['stdio', '--config', gw.configPath, '--token-env', 'GATEHOUSE_TOKEN'], { env });
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr).toContain('environment variable GATEHOUSE_TOKEN is empty or not set');
    expect(missing.stdout).toBe('');
    const empty = await cli(['stdio', '--config', gw.configPath, '--token-env', 'GATEHOUSE_TOKEN'], { env: { ...env, GATEHOUSE_TOKEN: '' } });
    expect(empty.code, empty.stderr).toBe(1);
    expect(empty.stderr).toContain('environment variable GATEHOUSE_TOKEN is empty or not set');
    const usage = await cli(['stdio', '--config', gw.configPath], { env });
    expect(usage.code, usage.stderr).toBe(2);
    expect(usage.stderr).toContain('--token-env is required');
    expect(auditRows(gw.dataDir).filter((r) => r.kind === 'session.start' || r.kind === 'auth.failure').length).toBe(before);
  });

  it('reports a refused token to the client as a JSON-RPC error naming the cause', async () => {
    const transport = bridge({ GATEHOUSE_TOKEN: 'not-a-valid-token' });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'stdio-e2e', version: '1.0.0' });
    const error = await client.connect(transport).catch((e: unknown) => e);
    await client.close().catch(() => undefined);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message, `bridge stderr: ${stderr}`).toContain('gateway refused the access token (HTTP 401)');
    expect((error as Error).message).toContain('auth.malformed_token');
  });
});
