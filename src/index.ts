/**
 * What a program may import from `mcp-gatehouse`. Everything else under `dist/` is internal and
 * may change in any release; running the gateway is done with the `gatehouse` command, whose
 * commands and flags are the stable interface for operators.
 *
 * - Configuration: read, validate and default a `gatehouse.yaml`, and its types (for tools that
 *   write or check configuration).
 * - Errors: the base class, the typed errors with their stable `code`s, and the JSON-RPC codes.
 * - Connectors: the interface a backend implements and the types it sees (what a call asks
 *   for, what it lists), for connector packages.
 */

export {
  ConfigSchema,
  DEFAULTS,
  defaultConfig,
  formatIssuePath,
  loadConfigFile,
  parseConfigText,
  validateConfig,
} from './config/index.js';
export type {
  Config,
  ConfigInput,
  HttpServerConfig,
  LoadedConfig,
  LoadOptions,
  McpServerConfig,
  PostgresServerConfig,
  ServerConfig,
  StdioServerConfig,
} from './config/index.js';

export {
  AuditUnavailableError,
  AuthenticationError,
  ConfigError,
  EgressRefusedError,
  GatehouseError,
  InvalidArgumentsError,
  InvalidParamsError,
  InvalidPathError,
  isGatehouseError,
  MethodNotFoundError,
  PolicyDeniedError,
  RateLimitedError,
  RefusedError,
  RpcCode,
  UpstreamError,
  UsageError,
} from './errors/index.js';
export type { GatehouseErrorOptions } from './errors/index.js';

export { emptyCatalog } from './connectors/index.js';
export type { Catalog, CatalogKind, Connector, ConnectorOwner, ConnectorStatus } from './connectors/index.js';
export type { CallContext, Executor, Operation } from './pipeline/index.js';
