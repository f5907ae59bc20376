import { createHash } from 'node:crypto';
import type { Principal } from '../tokens/index.js';
import type { CatalogView } from './catalog-view.js';
import type { ListKind } from './stateless/listen.js';

/** The input schema of a tool as this caller sees it (for `Mcp-Param-*` checks); undefined when it cannot see it. */
export function callerToolInputSchema(view: CatalogView) {
  return (principal: Principal, sessionId: string, name: string): Promise<unknown> =>
    view.resolveTool(name, { sub: principal.sub, sessionId }).then(
      (resolved) => resolved?.tool.inputSchema,
      () => undefined,
    );
}

/**
 * A digest of what the caller's own filtered list holds now: a `subscriptions/listen` stream
 * reports a list change only when this changes (another user's tools appearing says nothing).
 */
export function callerListDigest(view: CatalogView) {
  return async (principal: Principal, sessionId: string, kind: ListKind): Promise<string> => {
    const owner = { sub: principal.sub, sessionId };
    const items =
      kind === 'tools'
        ? await view.tools(principal, owner)
        : kind === 'prompts'
          ? await view.prompts(principal, owner)
          : [await view.resources(principal, owner), await view.resourceTemplates(principal, owner)];
    return createHash('sha256').update(JSON.stringify(items)).digest('base64url');
  };
}
