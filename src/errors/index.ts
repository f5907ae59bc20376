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
export { OutcomeUnrecordedError } from './outcome-unrecorded.js';
export { StoreUnavailableError, storeUnavailableFrom, STORE_RETRY_AFTER_SECONDS } from './store-unavailable.js';
export { JsonRpcError, toRpcError, relayedClientError } from './json-rpc.js';
export { CLAIM_PROBLEM_MESSAGE, INVALID_REQUEST_STATE, requestStateRefused, type ClaimProblem } from './request-state-refused.js';
