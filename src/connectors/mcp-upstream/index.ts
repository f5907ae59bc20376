export { UpstreamInstance, type UpstreamEnvironment, type UpstreamHooks, type InstanceState } from './upstream-instance.js';
export { UpstreamPool, type InstanceOwner } from './upstream-pool.js';
export { ChildProcessTransport, type ChildSpec, type ChildExit } from './child-process-transport.js';
export { createLimitedFetch, ResponseTooLargeError, type LimitedFetchOptions } from './limited-fetch.js';
export type { Catalog, CatalogKind } from './catalog.js';
export { emptyCatalog } from './catalog.js';
export { McpUpstreamConnector } from './mcp-connector.js';
