export { ApprovalService, ArgumentsCaptureError, type NewApproval, type WaitOutcome } from './approval-service.js';
export { checkDecision, type DecisionRequest } from './check-decision.js';
export { holdsApproverRole, isListed } from './holds-role.js';
export { WebhookNotifier, jsonPayload, slackPayload, SLACK_MAX_ARGUMENTS, type ApprovalEvent, type WebhookTarget } from './webhook.js';
export { ApprovalActionError, ApprovalRefusal, type ApprovalRefusalReason, type ApprovalSettings, type Approver, type PeopleList } from './types.js';
export { approvalServiceFor, approvalSettings } from './from-config.js';
export { approverGroups, type ApproverGroups } from './approver-groups.js';
export { approvalArgumentFields, argumentsView, INTEGRITY_NOTE, type ArgumentsIntegrity, type ArgumentsView } from './arguments-view.js';
export {
  captureArguments,
  renderArguments,
  argumentsJson,
  visibleString,
  visibleText,
  MASK_TEXT,
  type ArgNode,
  type CapturedArguments,
} from './exact-arguments.js';
