export type { Connector, ConnectorOwner, ConnectorStatus } from './types.js';
export type { Catalog, CatalogKind } from './mcp-upstream/catalog.js';
export { emptyCatalog } from './mcp-upstream/catalog.js';
