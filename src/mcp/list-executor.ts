import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { MethodNotFoundError } from '../errors/index.js';
import type { Executor } from '../pipeline/index.js';
import type { CatalogView } from './catalog-view.js';

/**
 * The '*' pseudo-server that answers list requests: the aggregated catalog, filtered item by
 * item to what the principal may see.
 */
export function listExecutor(view: CatalogView): Executor {
  return {
    async execute(ctx): Promise<Result> {
      const owner = { sub: ctx.principal.sub, sessionId: ctx.origin.sessionId };
      switch (ctx.op.method) {
        case 'tools/list':
          return { tools: await view.tools(ctx.principal, owner) };
        case 'prompts/list':
          return { prompts: await view.prompts(ctx.principal, owner) };
        case 'resources/list':
          return { resources: await view.resources(ctx.principal, owner) };
        case 'resources/templates/list':
          return { resourceTemplates: await view.resourceTemplates(ctx.principal, owner) };
        default:
          throw new MethodNotFoundError(ctx.op.method);
      }
    },
  };
}
