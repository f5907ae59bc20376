import type { DemoStep } from '../lib/context.ts';
import { logStep } from '../lib/log-step.ts';
import { runPostgresDemo } from '../postgres-before-after.ts';
import { accountsStep } from './accounts.ts';
import { agentCallsStep } from './agent-calls.ts';
import { auditTrailStep } from './audit-trail.ts';
import { auditVerifyStep } from './audit-verify.ts';
import { fourEyesStep } from './four-eyes.ts';
import { oauthSignInStep } from './oauth-sign-in.ts';
import { policyStep } from './policy.ts';
import { revokeStep } from './revoke.ts';
import { serviceAgentStep } from './service-agent.ts';
import { prepareWorkspace } from './setup/prepare-workspace.ts';
import { startGateway } from './setup/start-gateway.ts';
import { unauthenticatedStep } from './unauthenticated.ts';
import { vaultStep } from './vault.ts';
import { httpApiStep } from './http-api.ts';
import { rugPullStep } from './rug-pull.ts';
import { poisonedRecordStep } from './poisoned-record.ts';
import { userOAuthStep } from './user-oauth.ts';
import { startInvoicesApi } from '../lib/invoices-api.ts';
import { prepareHelpdesk } from '../lib/helpdesk.ts';
import { startItemsCloud } from '../lib/items-setup.ts';

/** Set-up, in order, printed unnumbered. */
export const SETUP: readonly DemoStep[] = [prepareWorkspace, startInvoicesApi, prepareHelpdesk, startItemsCloud, startGateway];

/** The demo proper, numbered in this order. Steps share state only through the context (see lib/context.ts). */
export const STEPS: readonly DemoStep[] = [
  accountsStep, // users add alice, carol
  oauthSignInStep, // alice's client: 401 → metadata → DCR → PKCE → login → consent → token → call → refresh
  agentCallsStep, // tools/list filtered by policy; allowed calls
  policyStep, // policy explain; denials with reason ids; schema check; rate limit
  fourEyesStep, // pending → self-approval refused → carol approves → retry runs; changed args need a new approval
  serviceAgentStep, // token issue for a service agent
  unauthenticatedStep, // missing, forged and alg:none tokens
  revokeStep, // revoke --user alice → 401 on the next call, refresh dead
  vaultStep, // vault put (stdin), vault list (metadata only)
  httpApiStep, // HTTP connector: an OpenAPI API as tools, the key from the vault
  rugPullStep, // tool pinning: a changed and a new upstream tool are quarantined until approved
  poisonedRecordStep, // after httpApiStep (its vault value must be in use); sanitize: a ticket with secrets, PII, a confidential field and an injection; the injection's attempts
  userOAuthStep, // userOAuth: connection.required → /connections → Items Cloud sign-in + consent → the call acts as alice; bob refused
  auditTrailStep,
  auditVerifyStep,
  logStep('PostgreSQL: credentials before and after Gatehouse', runPostgresDemo),
];
