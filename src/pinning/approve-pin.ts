import { AuditKind, namedActor, type AuditBody, type AuditKindName } from '../audit/index.js';
import type { ToolPinStore } from '../storage/ports/index.js';
import type { PinReview } from './review.js';

export interface PinApprover {
  sub: string;
  via: 'cli' | 'console';
  /** CLI: the operating-system account that ran the command. */
  osUser?: string | undefined;
  groups?: readonly string[] | undefined;
}

/** Approves the reviewed definition and writes its durable `tool.approved` record: the one path for the CLI and the console. */
export async function approvePin(
  deps: { store: ToolPinStore; audit: { append(kind: AuditKindName, body: AuditBody, options: { durable: boolean }): Promise<unknown> } },
  review: PinReview,
  approver: PinApprover,
  at = Date.now(),
): Promise<void> {
  const { pending, approved } = review;
  await deps.store.approve(pending.server, pending.tool, pending.digest, approver.sub, at);
  await deps.audit.append(
    AuditKind.ToolApproved,
    {
      actor: namedActor(approver.sub, approver.groups ? { groups: approver.groups } : {}),
      via: approver.via,
      ...(approver.osUser ? { osUser: approver.osUser } : {}),
      target: { server: pending.server, tool: `${pending.server}__${pending.tool}` },
      pin: { digest: pending.digest, reason: pending.reason, ...(approved ? { previous: approved.digest } : {}), findings: pending.findings },
    },
    { durable: true },
  );
}
