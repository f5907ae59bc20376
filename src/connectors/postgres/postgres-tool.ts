import type { Result, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { CallContext } from '../../pipeline/index.js';

/** One tool of the PostgreSQL connector: what `tools/list` shows, and its handler. */
export interface PostgresTool {
  readonly tool: Tool;
  call(ctx: CallContext, args: Record<string, unknown>): Promise<Result>;
}
