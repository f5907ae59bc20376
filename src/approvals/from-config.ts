import { AuditKind, type AuditLog } from '../audit/index.js';
import { interpolate, type LoadedConfig } from '../config/index.js';
import { secrets, type Logger } from '../log/index.js';
import type { Storage } from '../storage/index.js';
import { ApprovalService } from './approval-service.js';
import type { ApprovalSettings } from './types.js';
import { WebhookNotifier } from './webhook.js';

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
export function approvalServiceFor(config: LoadedConfig, storage: Storage, audit: AuditLog, log: Logger, env: NodeJS.ProcessEnv = process.env): ApprovalService {
  const targets = config.approvals.webhooks.map((hook) => ({
    url: hook.url,
    format: hook.format,
    timeoutMs: hook.timeout,
    headers: Object.fromEntries(Object.entries(hook.headers).map(([k, v]) => [k, interpolate(v, { env, onSecret: (s) => secrets.register(s) })])),
  }));
  const notifier = new WebhookNotifier(targets, log, (target, event, error) => {
    audit.append(AuditKind.ApprovalNotifyFailed, { webhook: target, event: event.type, approval: { id: event.approval.id }, outcome: { status: 'error', message: error } }, { durable: false }).catch(() => undefined);
  });
  return new ApprovalService(storage.approvals, audit, log, approvalSettings(config), targets.length > 0 ? (event) => notifier.notify(event) : undefined);
}
