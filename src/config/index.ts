export { ConfigSchema, DEFAULTS, isStdioServer } from './schema.js';
export type { Config, ConfigInput, ServerConfig, StdioServerConfig, HttpServerConfig, AccessRule, Isolation, LimitSpec, WebhookConfig } from './schema.js';
export { loadConfigFile, validateConfig, parseConfigText, defaultConfig, formatIssuePath, type LoadedConfig, type LoadOptions } from './load.js';
export { interpolate, interpolateRecord, referencedVariables, MissingVariableError, type InterpolationContext } from './interpolate.js';
