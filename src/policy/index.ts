export type { Action, TargetKind, AuthzRequest, Decision, Authorizer, ApprovalLevel, RequestFacts } from './types.js';
export { AccessListAuthorizer, denyMessage } from './access-list.js';
export { CedarAuthorizer, PolicyReason, DEFAULT_DENY, type CedarAuthorizerSettings, type Explanation } from './cedar-authorizer.js';
export { PolicyStore, loadPolicyFolder, type PolicyStatus, type PolicyEvent } from './policy-store.js';
export { InputSchemaValidator } from './input-schema.js';
export { PolicyLoadError, compilePolicySet, formatProblem, type CompiledPolicySet } from './cedar/policy-set.js';
