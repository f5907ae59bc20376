export type { Action, TargetKind, AuthzRequest, Decision, Authorizer } from './types.js';
export { AccessListAuthorizer, denyMessage } from './access-list.js';
