import { AuditKind, type AuditLog } from '../audit/index.js';
import { interpolate, type LoadedConfig } from '../config/index.js';
import { secrets, type Logger } from '../log/index.js';
import type { Storage } from '../storage/index.js';
import { ApprovalService } from './approval-service.js';
import type { ApprovalSettings } from './types.js';
import { auditBlockedEgress, EgressGuard } from '../egress/index.js';
import { webhookFetch, WebhookNotifier } from './webhook.js';

export function approvalSettings(config: LoadedConfig): ApprovalSettings {
  const a = config.approvals;
  return {
    ttlMs: a.ttl,
    waitMs: a.wait,
    progressIntervalMs: a.progressInterval,
    approvers: a.approvers,
    breakGlass: a.breakGlass,
    publicUrl: config.publicUrl,
    dangerouslyAllowFormConfirm: a.dangerouslyAllowFormConfirm,
  };
}

/** The approval service as configured: settings, webhooks (headers' `${VAR}` resolved, values kept out of logs). */
export function approvalServiceFor(
  config: LoadedConfig,
  storage: Storage,
  audit: AuditLog,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): ApprovalService {
  const targets = config.approvals.webhooks.map((hook) => ({
    url: hook.url,
    format: hook.format,
    timeoutMs: hook.timeout,
    headers: Object.fromEntries(Object.entries(hook.headers).map(([k, v]) => [k, interpolate(v, { env, onSecret: (s) => secrets.register(s) })])),
  }));
  // Webhooks are the operator's, but their addresses still go through the egress guard: a
  // private one must be listed in egress.allowAddresses.
  const guard = new EgressGuard({ purpose: 'approval webhook', allowAddresses: config.egress.allowAddresses, onBlocked: auditBlockedEgress(audit) });
  const notifier = new WebhookNotifier(
    targets,
    log,
    (target, event, error) => {
      audit
        .append(
          AuditKind.ApprovalNotifyFailed,
          { webhook: target, event: event.type, approval: { id: event.approval.id }, outcome: { status: 'error', message: error } },
          { durable: false },
        )
        .catch(() => undefined);
    },
    webhookFetch(guard, Math.max(1000, ...targets.map((t) => t.timeoutMs))),
  );
  return new ApprovalService(storage.approvals, audit, log, approvalSettings(config), targets.length > 0 ? (event) => notifier.notify(event) : undefined);
}
