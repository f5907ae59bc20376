import type { Result } from '@modelcontextprotocol/sdk/types.js';
import type { CallContext, Stage } from '../types.js';

/** Anything that can carry out an authorized operation: an MCP upstream, a database, an HTTP API. */
export interface Executor {
  execute(ctx: CallContext): Promise<Result>;
}

/** Innermost stage: hands the operation to the connector that owns `ctx.op.server`. */
export function executeStage(executorFor: (server: string) => Executor): Stage {
  return {
    name: 'execute',
    adds: ['notes.downstream'],
    run(ctx) {
      return executorFor(ctx.op.server).execute(ctx);
    },
  };
}
