import { requestStateRefused } from '../../errors/index.js';
import type { Executor } from '../../pipeline/index.js';
import type { InputRequiredBroker } from './input-required.js';

/**
 * The executor of a stateless retry that carries the client's input. Two cases:
 * - Gatehouse holds the waiting request (a 2025 upstream asked the client through us): the
 *   answers go to it through the broker.
 * - A stateless upstream asked for the input itself: nothing waits here, the retry goes to that
 *   upstream — and only to it: a target that now resolves to another server must not run there
 *   as a fresh call past the approval step.
 */
export function resumeExecutor(inputRequired: InputRequiredBroker, executorFor: (server: string) => Executor): Executor {
  return {
    execute: (ctx) => {
      const claim = ctx.control.resume;
      if (!claim) return Promise.reject(new Error('no resume claim'));
      if (!claim.upstream) return inputRequired.resume(claim, ctx.signal);
      if (claim.upstream.server !== ctx.op.server) return Promise.reject(requestStateRefused('wrong_request'));
      return executorFor(ctx.op.server).execute(ctx);
    },
  };
}
