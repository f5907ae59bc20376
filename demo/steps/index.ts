import type { DemoStep } from '../lib/context.ts';
import { agentCallsStep } from './agent-calls.ts';
import { auditTrailStep } from './audit-trail.ts';
import { auditVerifyStep } from './audit-verify.ts';
import { deniedCallsStep } from './denied-calls.ts';
import { issueTokenStep } from './issue-token.ts';
import { prepareWorkspace } from './setup/prepare-workspace.ts';
import { startGateway } from './setup/start-gateway.ts';
import { unauthenticatedStep } from './unauthenticated.ts';
import { logStep } from '../lib/log-step.ts';
import { runPostgresDemo } from '../postgres-before-after.ts';

/** Set-up, in order, printed unnumbered. Later issues add theirs (e.g. starting PostgreSQL) here. */
export const SETUP: readonly DemoStep[] = [prepareWorkspace, startGateway];

/** The demo proper, numbered in this order. Later issues insert steps (OAuth sign-in, policies, approvals…) here. */
export const STEPS: readonly DemoStep[] = [
  issueTokenStep,
  agentCallsStep,
  deniedCallsStep,
  unauthenticatedStep,
  auditTrailStep,
  auditVerifyStep,
  logStep('PostgreSQL: credentials before and after Gatehouse', runPostgresDemo),
];
