import { describe, expect, it } from 'vitest';
import { fakeCall } from '../../../test/helpers/call-context.js';
import type { CallContext } from '../types.js';
import { executeStage, type Executor } from './execute.js';

describe('execute stage', () => {
  it('hands the call to the executor of its server, and to no other', async () => {
    const ran: string[] = [];
    const executor = (name: string): Executor => ({
      execute: async (ctx: CallContext) => {
        ran.push(`${name}:${ctx.op.id}`);
        return { content: [{ type: 'text', text: name }] };
      },
    });
    const executors = new Map([
      ['echo', executor('echo')],
      ['db', executor('db')],
    ]);
    const stage = executeStage((server) => executors.get(server) as Executor);
    const result = await stage.run(fakeCall(), async () => {
      throw new Error('next must not be called');
    });
    expect(result).toEqual({ content: [{ type: 'text', text: 'echo' }] });
    expect(ran).toEqual(['echo:echo__add']);
  });

  it('passes on what the executor lookup throws (a server with no connector)', async () => {
    const stage = executeStage((server) => {
      throw new Error(`no connector for server "${server}"`);
    });
    // Inside the pipeline an outer stage awaits it, so a throw becomes that call's rejection.
    await expect(Promise.resolve().then(() => stage.run(fakeCall({ op: { server: 'gone' } }), async () => ({})))).rejects.toThrow(
      'no connector for server "gone"',
    );
  });
});
