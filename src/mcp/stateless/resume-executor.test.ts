import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { fakeCall } from '../../../test/helpers/call-context.js';
import type { Executor, ResumeClaim } from '../../pipeline/index.js';
import type { InputRequiredBroker } from './input-required.js';
import { resumeExecutor } from './resume-executor.js';

function claim(upstream?: ResumeClaim['upstream']): ResumeClaim {
  return { pendingId: 'p-1', inputResponses: { a: { action: 'accept' } }, abandon: () => {}, upstream };
}

function fakes() {
  const resumed: ResumeClaim[] = [];
  const executed: string[] = [];
  const broker = {
    resume: async (c: ResumeClaim) => {
      resumed.push(c);
      return { content: [{ type: 'text', text: 'resumed here' }] } satisfies Result;
    },
  } as unknown as InputRequiredBroker;
  const executorFor = (server: string): Executor => ({
    execute: async () => {
      executed.push(server);
      return { content: [{ type: 'text', text: `ran on ${server}` }] };
    },
  });
  return { resumed, executed, executor: resumeExecutor(broker, executorFor) };
}

describe('resumeExecutor', () => {
  it('hands the answers to the request waiting in Gatehouse, and runs nothing upstream', async () => {
    const { resumed, executed, executor } = fakes();
    const ctx = fakeCall();
    const c = claim();
    ctx.control.resume = c;
    expect(await executor.execute(ctx)).toEqual({ content: [{ type: 'text', text: 'resumed here' }] });
    expect(resumed).toEqual([c]);
    expect(executed).toEqual([]);
  });

  it('sends the retry to the stateless upstream that asked for the input, and only to it', async () => {
    const { resumed, executed, executor } = fakes();
    const ctx = fakeCall({ op: { server: 'echo' } });
    ctx.control.resume = claim({ server: 'echo', state: 'upstream-state' });
    expect(await executor.execute(ctx)).toEqual({ content: [{ type: 'text', text: 'ran on echo' }] });
    expect(executed).toEqual(['echo']);
    expect(resumed).toEqual([]);
  });

  it('refuses a retry whose target now resolves to another server, before anything runs', async () => {
    const { resumed, executed, executor } = fakes();
    const ctx = fakeCall({ op: { server: 'payments' } });
    ctx.control.resume = claim({ server: 'echo' });
    await expect(executor.execute(ctx)).rejects.toMatchObject({
      code: -32602,
      message: 'Invalid params: requestState was issued for another request (method, target or arguments differ)',
      data: { code: 'mcp.request_state_invalid', reason: 'wrong_request' },
    });
    expect(executed).toEqual([]);
    expect(resumed).toEqual([]);
  });

  it('is a wiring fault without a resume claim: it fails and runs nothing', async () => {
    const { resumed, executed, executor } = fakes();
    await expect(executor.execute(fakeCall())).rejects.toThrow('no resume claim');
    expect(executed).toEqual([]);
    expect(resumed).toEqual([]);
  });
});
