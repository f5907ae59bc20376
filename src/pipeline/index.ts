export type {
  CallContext,
  CallControl,
  CallNotes,
  ClientChannel,
  Operation,
  RequestOrigin,
  ProgressUpdate,
  Stage,
  StageOutput,
  Next,
  Pipeline,
  PipelineObserver,
  ResumeClaim,
} from './types.js';
export { composePipeline, orderStages, STAGE_ORDER } from './compose.js';
export { auditOutcomeStage, describeCall } from './stages/audit-outcome.js';
export { authorizeStage, authzRequest, type ApprovalStateLookup, type AuthorizeOptions } from './stages/authorize.js';
export { tokenScopeStage } from './stages/token-scope.js';
export { validateStage, REASON_META_KEY, REASON_ARGUMENT } from './stages/validate.js';
export { auditIntentStage } from './stages/audit-intent.js';
export { executeStage, type Executor } from './stages/execute.js';
export { brokerStage, callPurpose, PURPOSE_META_KEY } from './stages/broker.js';
export { approveStage, APPROVAL_META_KEY } from './stages/approve.js';
export { rateLimitStage } from './stages/rate-limit.js';
export { sanitizeStage } from './stages/sanitize.js';
export { callPipelines, type PipelineParts } from './assemble.js';
