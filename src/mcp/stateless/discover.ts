import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../../version.js';
import { META, MODERN_VERSIONS } from './protocol.js';

/**
 * The answer to `server/discover` (server/discover §response): the revisions served, the
 * capabilities, Gatehouse's identity and the upstreams' instructions. Session-era versions are not
 * listed: a client that discovers speaks the stateless revision, and `initialize` is how the
 * older one opens. `resources.subscribe` now means `subscriptions/listen` with resource URIs.
 */
export function discoverResult(capabilities: Record<string, unknown>, instructions: string): Result {
  const { logging: _removed, ...modern } = capabilities as Record<string, Record<string, unknown> | undefined>;
  return {
    supportedVersions: [...MODERN_VERSIONS],
    capabilities: modern,
    _meta: { [META.serverInfo]: { name: 'gatehouse', version: VERSION } },
    ...(instructions ? { instructions } : {}),
  } as Result;
}
