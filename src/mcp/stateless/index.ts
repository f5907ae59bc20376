export { checkRequestHeaders, decodeHeaderValue, type HeaderProblem } from '../../protocol/request-headers.js';
export {
  isModernRequest,
  META,
  MODERN_VERSION,
  MODERN_VERSIONS,
  ModernRpcCode,
  metaOf,
  requestedVersion,
  withoutReservedMeta,
} from '../../protocol/revision.js';
export { LIST_TTL_MS, modernResult } from './results.js';
export { StatelessPool } from './stateless-pool.js';
export { discoverResult } from './discover.js';
export { checkRequestMeta, requestLogLevel, type MetaProblem } from './request-meta.js';
export { isModernMethod, MODERN_METHODS } from './methods.js';
