import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { defineConnector, defineTool, isConnectorDefinition } from './define.js';
import { callTool } from './testing.js';

const tool = (over: Record<string, unknown> = {}) =>
  defineTool({
    name: 'get',
    input: z.object({ id: z.string() }),
    effect: 'read',
    handler: async (_ctx: unknown, args: { id: string }) => args.id,
    ...over,
  } as never);

describe('defineTool / defineConnector', () => {
  it('marks what they make; a plain object is not a connector', () => {
    const connector = defineConnector({ name: 'shop', tools: [tool()] });
    expect(isConnectorDefinition(connector)).toBe(true);
    expect(isConnectorDefinition({ name: 'shop', tools: [] })).toBe(false);
    expect(Object.isFrozen(connector)).toBe(true);
  });

  it('refuses bad names, effects, classifications, handlers and schemas, naming the tool', () => {
    expect(() => tool({ name: 'a__b' })).toThrow(/tool name "a__b"/);
    expect(() => tool({ name: '1x' })).toThrow(/tool name/);
    expect(() => tool({ effect: 'harmless' })).toThrow('tool get: effect must be one of read, write, destructive');
    expect(() => tool({ classification: 'top' })).toThrow('tool get: classification must be one of public, internal, confidential, secret');
    expect(() => tool({ handler: 'x' })).toThrow('tool get: handler must be a function');
    expect(() => tool({ input: { type: 'object' } })).toThrow('tool get: input must be a zod schema');
  });

  it('refuses tools not made with defineTool and duplicate names', () => {
    expect(() => defineConnector({ name: 'shop', tools: [{ name: 'x' } as never] })).toThrow('connector shop: tools must be made with defineTool');
    expect(() => defineConnector({ name: 'shop', tools: [tool(), tool()] })).toThrow('connector shop: tool get is defined twice');
  });
});

describe('callTool (for connector authors’ tests)', () => {
  const connector = defineConnector({
    name: 'shop',
    tools: [
      defineTool({
        name: 'order',
        input: z.object({ qty: z.number().int().positive() }),
        effect: 'write',
        handler: async (ctx, args) => {
          const key = await ctx.credential('api');
          return { qty: args.qty, auth: key.headers.authorization, actor: ctx.actor.sub };
        },
      }),
    ],
  });

  it('validates arguments with the tool’s schema before the handler runs', async () => {
    await expect(callTool(connector, 'order', { qty: -1 })).rejects.toThrow(/Invalid arguments: qty/);
  });

  it('lends only the credentials given, and refuses others by name', async () => {
    expect(await callTool(connector, 'order', { qty: 2 }, { actor: { sub: 'bob' }, credentials: { api: { headers: { authorization: 'Bearer t' } } } })).toEqual(
      {
        qty: 2,
        auth: 'Bearer t',
        actor: 'bob',
      },
    );
    await expect(callTool(connector, 'order', { qty: 2 })).rejects.toThrow('no credential "api" is configured for connector shop');
  });
});
