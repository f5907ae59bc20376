export { ConfigSchema, DEFAULTS, isStdioServer, isPostgresServer, isMcpServer, isHttpApiServer, isConnectorServer } from './schema.js';
export type {
  Config,
  ConfigInput,
  ServerConfig,
  StdioServerConfig,
  HttpServerConfig,
  SandboxConfig,
  McpServerConfig,
  HttpApiServerConfig,
  ConnectorServerConfig,
  PostgresServerConfig,
  PostgresSettings,
  PostgresStatementConfig,
  PostgresParamConfig,
  AccessRule,
  Isolation,
  UpstreamIdpConfig,
  ConditionalAccessRule,
  OAuthClientConfig,
  LimitSpec,
  WebhookConfig,
} from './schema.js';
export { loadConfigFile, validateConfig, parseConfigText, defaultConfig, formatIssuePath, type LoadedConfig, type LoadOptions } from './load.js';
export { interpolate, interpolateRecord, referencedVariables, MissingVariableError, type InterpolationContext } from './interpolate.js';
export { StorageSchema, StoragePostgresSchema, STORAGE_DEFAULTS, type StorageConfig, type StoragePostgresConfig } from './storage-schema.js';
export { RateLimitRedisSchema, type RateLimitRedisConfig } from './ratelimit-redis-schema.js';
