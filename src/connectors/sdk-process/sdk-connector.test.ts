import { describe, expect, it } from 'vitest';
import { ConnectorServerSchema } from '../../config/schema.js';
import { ConfigError } from '../../errors/index.js';
import { silentLogger } from '../../log/index.js';
import type { ToolDeclaration } from '../sdk/messages.js';
import type { ConnectorProcess } from './connector-process.js';
import { effectAnnotations, SdkConnector } from './sdk-connector.js';

const declared: ToolDeclaration[] = [
  { name: 'list', inputSchema: { type: 'object' }, effect: 'read', classification: 'internal' },
  { name: 'pay', inputSchema: { type: 'object' }, effect: 'write', classification: 'confidential' },
  { name: 'wipe', inputSchema: { type: 'object' }, effect: 'destructive' },
];

function connector(input: Record<string, unknown>) {
  const server = ConnectorServerSchema.parse({ connector: 'x.ts', ...input });
  // Like ConnectorProcess: announces the tools on every start, and a refusal is the connector's to report.
  const fakeProcess = {
    tools: declared,
    state: 'ready',
    restarts: 0,
    onReady: undefined as ((tools: ToolDeclaration[]) => void) | undefined,
    announce(tools: ToolDeclaration[]) {
      try {
        this.onReady?.(tools);
      } catch {
        // logged by the real process
      }
    },
    async start() {
      this.announce(declared);
    },
    stop: async () => undefined,
  };
  const process = fakeProcess as unknown as ConnectorProcess;
  const c = new SdkConnector('shop', server, {
    log: silentLogger(),
    process,
    credentials: new Map(),
    globalAllow: [],
    timeoutMs: 1000,
    sandbox: { on: true, reason: 'test' },
  });
  return { c, server, fakeProcess };
}

describe('SdkConnector', () => {
  it('offers the declared tools with annotations from their effect', async () => {
    const { c } = connector({});
    await c.start();
    const tools = (await c.catalog({ sub: 'a', sessionId: 's' })).tools;
    expect(tools.map((t) => [t.name, t.annotations])).toEqual([
      ['list', effectAnnotations('read')],
      ['pay', effectAnnotations('write')],
      ['wipe', effectAnnotations('destructive')],
    ]);
    expect(effectAnnotations('read')).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(effectAnnotations('destructive')).toMatchObject({ readOnlyHint: false, destructiveHint: true });
  });

  it('configuration may make an effect stricter', async () => {
    const { c } = connector({ tools: { list: { annotations: { readOnlyHint: false } }, pay: { annotations: { destructiveHint: true } } } });
    await expect(c.start()).resolves.toBeUndefined();
  });

  it('configuration may not make an effect looser: the start fails naming each key', async () => {
    const { c } = connector({ tools: { pay: { annotations: { readOnlyHint: true } }, wipe: { annotations: { destructiveHint: false } } } });
    const error = await c.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual(['servers.shop.tools.pay.annotations', 'servers.shop.tools.wipe.annotations']);
    expect((await c.catalog({ sub: 'a', sessionId: 's' })).tools).toEqual([]);
  });

  it('a restarted process that announces other tools changes the catalog', async () => {
    const { c, fakeProcess } = connector({});
    await c.start();
    fakeProcess.announce([{ name: 'only', inputSchema: { type: 'object' }, effect: 'read' }]);
    expect((await c.catalog({ sub: 'a', sessionId: 's' })).tools.map((t) => t.name)).toEqual(['only']);
  });

  it('a declared classification raises the configured one and never lowers it', async () => {
    const { c, server } = connector({ tools: { list: { classification: 'secret' } } });
    await c.start();
    expect(server.tools.list?.classification).toBe('secret');
    expect(server.tools.pay?.classification).toBe('confidential');
    expect(server.tools.wipe?.classification).toBeUndefined();
  });
});
