import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../../version.js';
import { META, MODERN_VERSIONS } from './protocol.js';

/**
 * The answer to `server/discover` (server/discover §response): the revisions served, the
 * capabilities, Gatehouse's identity and the upstreams' instructions. Session-era versions are not
 * listed: a client that discovers speaks the stateless revision, and `initialize` is how the
 * older one opens. In this revision list changes and resource updates reach a client only through
 * `subscriptions/listen`, which Gatehouse does not offer yet, so neither `listChanged` nor
 * `subscribe` is advertised here: a capability is only claimed when it is served.
 */
export function discoverResult(capabilities: Record<string, unknown>, instructions: string): Result {
  const { logging: _removed, ...modern } = capabilities as Record<string, Record<string, unknown> | undefined>;
  const served: Record<string, Record<string, unknown> | undefined> = {};
  for (const [name, capability] of Object.entries(modern)) {
    if (capability === undefined) continue;
    const { listChanged: _listChanged, subscribe: _subscribe, ...rest } = capability;
    served[name] = rest;
  }
  return {
    supportedVersions: [...MODERN_VERSIONS],
    capabilities: served,
    _meta: { [META.serverInfo]: { name: 'gatehouse', version: VERSION } },
    ...(instructions ? { instructions } : {}),
  } as Result;
}
