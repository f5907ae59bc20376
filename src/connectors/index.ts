export type { Connector, ConnectorOwner, ConnectorStatus } from './types.js';
export type { Catalog, CatalogKind } from './mcp-upstream/catalog.js';
export { emptyCatalog } from './mcp-upstream/catalog.js';
export { MAX_UPSTREAM_STATE_LENGTH } from './mcp-upstream/input-rounds.js';
