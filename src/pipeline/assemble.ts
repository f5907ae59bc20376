import type { ApprovalService } from '../approvals/index.js';
import type { AuditLog } from '../audit/index.js';
import type { Logger } from '../log/index.js';
import { InputSchemaValidator } from '../policy/input-schema.js';
import type { Authorizer } from '../policy/types.js';
import type { CallLimits } from '../ratelimit/index.js';
import type { Sanitizer } from '../sanitize/index.js';
import type { OutputRules } from '../sanitize/output-rules.js';
import type { Broker } from '../vault/index.js';
import { composePipeline, orderStages } from './compose.js';
import { approveStage } from './stages/approve.js';
import { auditIntentStage } from './stages/audit-intent.js';
import { auditOutcomeStage } from './stages/audit-outcome.js';
import { authorizeStage } from './stages/authorize.js';
import { brokerStage } from './stages/broker.js';
import { executeStage, type Executor } from './stages/execute.js';
import { rateLimitStage } from './stages/rate-limit.js';
import { sanitizeStage } from './stages/sanitize.js';
import { tokenScopeStage } from './stages/token-scope.js';
import { validateStage } from './stages/validate.js';
import type { Pipeline, PipelineObserver } from './types.js';

export interface PipelineParts {
  audit: AuditLog;
  log: Logger;
  /** The policies in force now (they may be reloaded). */
  authorizer(): Authorizer;
  approvals: ApprovalService;
  /** Per-target call limits; none when rate limits are off. */
  callLimits: CallLimits | undefined;
  broker: Broker;
  sanitizer: Sanitizer;
  /** Classification, clearance and result shaping for the sanitize stage (from the `sanitize` config). */
  outputRules?: OutputRules;
  /** The connector that runs an operation on `server` ('*': the aggregated lists). */
  executorFor(server: string): Executor;
  /** Metrics and traces of the call pipeline (none: its stages run unwrapped). */
  observers?: readonly PipelineObserver[];
  /** Resumes a request waiting for the client's input (stateless retries); none: no resume pipeline. */
  resume?: Executor | undefined;
}

/** The request path of calls, and the shorter one of list requests. */
export function callPipelines(parts: PipelineParts): { pipeline: Pipeline; listPipeline: Pipeline; resumePipeline: Pipeline | undefined } {
  const { audit, log, authorizer, approvals, callLimits, broker, sanitizer, outputRules } = parts;
  const executorFor = (server: string) => parts.executorFor(server);
  // What a call and a resumed call both go through before anything happens on its behalf:
  // audited, scope-checked, validated, authorized and limited (fresh stage instances each).
  const admission = () => [
    auditOutcomeStage(audit),
    tokenScopeStage(),
    validateStage(new InputSchemaValidator(), authorizer),
    authorizeStage(authorizer, { approvals }),
    ...(callLimits ? [rateLimitStage(callLimits)] : []),
  ];
  const pipeline = composePipeline(
    orderStages([
      ...admission(),
      approveStage(approvals, log),
      auditIntentStage(audit),
      brokerStage(broker),
      sanitizeStage(sanitizer, outputRules),
      executeStage(executorFor),
    ]),
    parts.observers,
  );
  // Lists are authorized item by item in the catalog view; they only need their result checked.
  const listPipeline = composePipeline(orderStages([sanitizeStage(sanitizer), executeStage(executorFor)]));
  // A stateless retry that resumes a waiting request is authorized, limited, audited and
  // sanitized again like any call; only the approval (already used by the request it resumes,
  // which the sealed state binds to the same user, client, target and arguments), the credential
  // broker and the upstream call are not repeated: the waiting request still holds them.
  const resume = parts.resume;
  const resumePipeline = resume
    ? composePipeline(
        orderStages([...admission(), auditIntentStage(audit), sanitizeStage(sanitizer, outputRules), executeStage(() => resume)]),
        parts.observers,
      )
    : undefined;
  return { pipeline, listPipeline, resumePipeline };
}
