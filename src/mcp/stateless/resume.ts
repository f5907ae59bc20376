export { INVALID_REQUEST_STATE, InputRequiredBroker, type StatelessRequestContext } from './input-required.js';
export { CLAIM_PROBLEM_MESSAGE, requestStateRefused } from '../../errors/index.js';
export {
  auditRefusedRetry,
  retryFieldsOf,
  statelessRequestContext,
  withoutRetryFields,
} from './retry-request.js';
export { RequestStateSealer } from './request-state.js';
