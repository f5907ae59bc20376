import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  cleanup,
  connectClient,
  ECHO_SERVER,
  memoryServer,
  NODE,
  startGateway,
  tempDir,
  text,
  waitFor,
  type GatewayProcess,
} from '../helpers/e2e.js';

const echo = { command: NODE, args: [ECHO_SERVER] };
const everyone = (servers: string[]) => [{ allow: { users: ['alice'], servers } }];

/** Several upstreams behind one gateway: how names are exposed, resolved and audited. */
describe('aggregating upstreams', () => {
  let twoAuto: GatewayProcess;
  let oneAuto: GatewayProcess;
  let never: GatewayProcess;
  let always: GatewayProcess;

  beforeAll(async () => {
    [twoAuto, oneAuto, never, always] = await Promise.all([
      startGateway({ config: { servers: { echo, other: echo }, access: everyone(['echo', 'other']) } }),
      startGateway({ config: { servers: { echo }, access: everyone(['echo']) } }),
      startGateway({
        config: {
          servers: { echo, twin: echo, memory: memoryServer(tempDir()) },
          access: everyone(['echo', 'twin', 'memory']),
          naming: { mode: 'never' },
        },
      }),
      startGateway({ config: { servers: { echo: { ...echo, prefix: 'e' } }, access: everyone(['echo']), naming: { mode: 'always' } } }),
    ]);
  });
  afterAll(cleanup);

  async function client(gw: GatewayProcess) {
    return connectClient(gw, await gw.token('alice'));
  }

  async function auditedTool(gw: GatewayProcess, marker: string): Promise<string | undefined> {
    const row = await waitFor(
      () => auditRows(gw.dataDir).find((r) => r.kind === 'call.intent' && JSON.stringify(r.body.args ?? {}).includes(marker)),
      `the intent record for ${marker}`,
    );
    return row.body.target?.tool;
  }

  it('prefixes tools and prompts with their server’s name when there is more than one server', async () => {
    const c = await client(twoAuto);
    const tools = (await c.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['echo__echo', 'other__echo', 'echo__add', 'other__add']));
    expect(tools.filter((t) => !t.startsWith('echo__') && !t.startsWith('other__'))).toEqual([]);
    expect((await c.listPrompts()).prompts.map((p) => p.name).sort()).toEqual(['echo__greet', 'other__greet']);
    expect(text(await c.callTool({ name: 'other__echo', arguments: { text: 'via-other' } }))).toBe('via-other');
    expect(await auditedTool(twoAuto, 'via-other')).toBe('other__echo');
  });

  it('does not resolve a bare upstream name when names are prefixed', async () => {
    const c = await client(twoAuto);
    await expect(c.callTool({ name: 'echo', arguments: { text: 'bare' } })).rejects.toMatchObject({ code: -32602, data: { code: 'mcp.unknown_tool' } });
    await expect(c.getPrompt({ name: 'greet', arguments: { name: 'x' } })).rejects.toMatchObject({ code: -32602, data: { code: 'mcp.unknown_prompt' } });
    await expect(c.callTool({ name: 'nosuch__echo', arguments: { text: 'bare' } })).rejects.toMatchObject({ code: -32602, data: { code: 'mcp.unknown_tool' } });
  });

  it('leaves names alone for a single server, while audit still records the qualified server__tool', async () => {
    const c = await client(oneAuto);
    const tools = (await c.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['echo', 'add', 'slow']));
    expect(tools.some((t) => t.includes('__'))).toBe(false);
    expect(text(await c.callTool({ name: 'echo', arguments: { text: 'single' } }))).toBe('single');
    expect(await auditedTool(oneAuto, 'single')).toBe('echo__echo');
    await expect(c.callTool({ name: 'echo__echo', arguments: { text: 'prefixed' } })).rejects.toMatchObject({ data: { code: 'mcp.unknown_tool' } });
  });

  it('naming.mode never: unprefixed names route to the one server that has them; a name two servers share is refused', async () => {
    const c = await client(never);
    const tools = (await c.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['echo', 'create_entities', 'read_graph']));
    expect(tools.some((t) => t.includes('__'))).toBe(false);
    await c.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'never-mode', entityType: 'test', observations: [] }] } });
    const created = await waitFor(
      () => auditRows(never.dataDir).find((r) => r.kind === 'call.intent' && r.body.target?.server === 'memory'),
      'the memory intent',
    );
    expect(created.body.target?.tool).toBe('memory__create_entities');

    const error = await c.callTool({ name: 'echo', arguments: { text: 'which one?' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: -32602, data: { code: 'mcp.ambiguous_tool', servers: ['echo', 'twin'] } });
    expect(auditRows(never.dataDir).filter((r) => r.kind === 'call.intent' && r.rawBody.includes('which one?'))).toEqual([]);
  });

  it('naming.mode always with a configured prefix: prefixes even one server, and audits under the server’s name', async () => {
    const c = await client(always);
    const tools = (await c.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['e__echo', 'e__add']));
    expect(tools.every((t) => t.startsWith('e__'))).toBe(true);
    expect(text(await c.callTool({ name: 'e__echo', arguments: { text: 'always' } }))).toBe('always');
    expect(await auditedTool(always, 'always')).toBe('echo__echo');
    await expect(c.callTool({ name: 'echo__echo', arguments: { text: 'server name is not the prefix' } })).rejects.toMatchObject({
      data: { code: 'mcp.unknown_tool' },
    });
  });
});
