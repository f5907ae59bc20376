export { INVALID_REQUEST_STATE, InputRequiredBroker, type StatelessRequestContext } from './input-required.js';
export {
  auditRefusedRetry,
  CLAIM_PROBLEM_MESSAGE,
  requestStateRefused,
  retryFieldsOf,
  statelessRequestContext,
  withoutRetryFields,
} from './retry-request.js';
export { RequestStateSealer } from './request-state.js';
