export { GatehouseError, isGatehouseError, type GatehouseErrorOptions } from './gatehouse-error.js';
export {
  RpcCode,
  AuthenticationError,
  RefusedError,
  PolicyDeniedError,
  RateLimitedError,
  InvalidArgumentsError,
  InvalidPathError,
  InvalidParamsError,
  MethodNotFoundError,
  UpstreamError,
  AuditUnavailableError,
  ConfigError,
  UsageError,
  EgressRefusedError,
} from './codes.js';
export { JsonRpcError, toRpcError, relayedClientError } from './json-rpc.js';
