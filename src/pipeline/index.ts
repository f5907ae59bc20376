export type { CallContext, Operation, RequestOrigin, ProgressUpdate, Stage, Next, Pipeline } from './types.js';
export { composePipeline, orderStages, STAGE_ORDER } from './compose.js';
export { auditOutcomeStage, describeCall } from './stages/audit-outcome.js';
export { authorizeStage } from './stages/authorize.js';
export { tokenScopeStage } from './stages/token-scope.js';
export { auditIntentStage } from './stages/audit-intent.js';
export { executeStage, type Executor } from './stages/execute.js';
export { brokerStage, callPurpose, PURPOSE_META_KEY } from './stages/broker.js';
