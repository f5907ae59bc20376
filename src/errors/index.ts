export { GatehouseError, isGatehouseError, type GatehouseErrorOptions } from './gatehouse-error.js';
export {
  RpcCode,
  AuthenticationError,
  PolicyDeniedError,
  InvalidParamsError,
  MethodNotFoundError,
  UpstreamError,
  AuditUnavailableError,
  ConfigError,
  UsageError,
} from './codes.js';
