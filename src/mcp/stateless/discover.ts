import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../../version.js';
import { MODERN_METHODS } from './methods.js';
import { META, MODERN_VERSIONS } from '../../protocol/revision.js';

/**
 * The answer to `server/discover` (server/discover §response): the revisions served, the
 * capabilities, Gatehouse's identity and the upstreams' instructions. Session-era versions are not
 * listed: a client that discovers speaks the stateless revision, and `initialize` is how the
 * older one opens. In this revision list changes and resource updates reach a client only through
 * `subscriptions/listen`: `listChanged` and `subscribe` are claimed only while that method is
 * served (a capability is claimed only when it is served).
 */
export function discoverResult(capabilities: Record<string, unknown>, instructions: string): Result {
  const { logging: _removed, ...modern } = capabilities as Record<string, Record<string, unknown> | undefined>;
  const served: Record<string, Record<string, unknown> | undefined> = {};
  for (const [name, capability] of Object.entries(modern)) {
    if (capability === undefined) continue;
    const { listChanged: _listChanged, subscribe: _subscribe, ...rest } = capability;
    served[name] = MODERN_METHODS.has('subscriptions/listen') ? capability : rest;
  }
  return {
    supportedVersions: [...MODERN_VERSIONS],
    capabilities: served,
    _meta: { [META.serverInfo]: { name: 'gatehouse', version: VERSION } },
    ...(instructions ? { instructions } : {}),
  } as Result;
}
