export { localPrincipal, type Principal } from './principal.js';
export { TokenError, type TokenErrorCode } from './errors.js';
export { KeyRing, generateSigningKey, type ActiveKey } from './key-ring.js';
export { issueAccessToken, type AccessTokenRequest, type IssuerSettings } from './issue-access-token.js';
export { AccessTokenVerifier, type VerifierSettings, type PrincipalCheck } from './verify-access-token.js';
export { RevocationList } from './revocation-list.js';
export { DpopVerifier, DpopError, DPOP_ALGS, type DpopRequest, type DpopErrorCode } from './dpop.js';
export { MemoryReplayCache, dpopReplayKey, type ReplayCache } from './replay-cache.js';
export {
  checkReach,
  reachOf,
  reachOfScopes,
  scopesWithin,
  stepUpScope,
  BASE_SCOPE,
  serverScope,
  toolScope,
  type Reach,
  type ReachTarget,
  type ReachDecision,
} from './reach.js';
export {
  TOOL_CALL_TYPE,
  toolCallDetailProblem,
  detailAllows,
  detailWithin,
  isToolCallDetail,
  type ToolCallDetail,
  type ArgumentConstraint,
} from './tool-call-details.js';
export {
  narrowExchange,
  ExchangeRefusal,
  MAX_ACT_DEPTH,
  type ExchangeErrorCode,
  type ExchangeDimension,
  type ExchangeSubject,
  type ExchangeRequest,
  type ExchangeContext,
  type NarrowedToken,
} from './narrow-exchange.js';
export { verifierRules, sameInstanceRule, dpopRequiredRule, revocationRule } from './verifier-rules.js';
