import { describe, expect, it } from 'vitest';
import { fakeCall } from '../../test/helpers/call-context.js';
import type { Connector } from '../connectors/index.js';
import type { Executor } from '../pipeline/index.js';
import { executorFor } from './executor-for.js';

const answering = (text: string): Executor => ({ execute: async () => ({ content: [{ type: 'text', text }] }) });

describe('executorFor', () => {
  const connectors = new Map([
    ['echo', answering('echo') as unknown as Connector],
    ['web', answering('web') as unknown as Connector],
  ]);
  const lists = answering('lists');

  it("answers the '*' pseudo-server from the catalog and every other server with its connector", async () => {
    const pick = executorFor(connectors, lists);
    expect(pick('*')).toBe(lists);
    expect(pick('echo')).toBe(connectors.get('echo'));
    expect(await pick('web').execute(fakeCall())).toEqual({ content: [{ type: 'text', text: 'web' }] });
  });

  it('wraps connectors (never the catalog) with what the caller gives, per server', () => {
    const wrapped: string[] = [];
    const pick = executorFor(connectors, lists, (server, executor) => {
      wrapped.push(server);
      return server === 'web' ? answering('marked web') : executor;
    });
    pick('*');
    pick('echo');
    pick('web');
    expect(wrapped).toEqual(['echo', 'web']);
  });

  it('throws for a server it has no connector for (a wiring fault: the router resolves names first)', () => {
    const pick = executorFor(connectors, lists);
    expect(() => pick('payments')).toThrow('no connector for server "payments"');
  });
});
