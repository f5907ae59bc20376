import type { Result } from '@modelcontextprotocol/sdk/types.js';

/**
 * Operations whose complete results carry caching hints (server/utilities/caching §cacheable-results).
 * Gatehouse filters every list by the caller's identity, so each of them is `private` and never
 * `public`: a shared cache must not hand one user's view of the catalog to another.
 */
const CACHEABLE = new Set(['server/discover', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);

/** How long a client may treat a filtered list as fresh: short, because policy and pins can change it. */
export const LIST_TTL_MS = 60_000;

/**
 * The result as a modern client expects it: `resultType` (basic §result-type) and, for
 * cacheable operations, `ttlMs` and `cacheScope: "private"`. Resource contents come from an
 * upstream and are never cached by a client beyond the list hint: `ttlMs` 0.
 */
export function modernResult(method: string, result: Result): Result {
  const decorated: Record<string, unknown> = { ...result };
  if (decorated.resultType === undefined) decorated.resultType = 'complete';
  if (decorated.resultType === 'complete' && CACHEABLE.has(method)) {
    decorated.ttlMs = method === 'resources/read' ? 0 : LIST_TTL_MS;
    decorated.cacheScope = 'private';
  }
  return decorated as Result;
}
