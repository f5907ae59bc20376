import { userInfo } from 'node:os';
import {
  ApprovalActionError,
  approvalServiceFor,
  approverGroups,
  approvalArgumentFields,
  argumentsView,
  INTEGRITY_NOTE,
  visibleText,
  type ApprovalService,
} from '../../approvals/index.js';
import type { LoadedConfig } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { RuntimeKeys } from '../../runtime.js';
import { silentLogger } from '../../log/index.js';
import { openStorage, type ApprovalRecord, type ApprovalStatus, type Storage } from '../../storage/index.js';
import { defineCommand, ExitCode, type CommandContext } from '../command.js';
import { COMMAND_SPECS } from '../command-specs.js';
import { openCliAudit } from '../admin.js';

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'used'];

async function withService<T>(ctx: CommandContext<unknown>, fn: (service: ApprovalService, storage: Storage, config: LoadedConfig) => Promise<T>): Promise<T> {
  const base = ctx.config();
  const storage = await openStorage(base);
  // Links point at the running gateway's public URL when the config does not name one.
  const published = base.publicUrlDerived ? await storage.settings.get(RuntimeKeys.publicUrl) : undefined;
  const config = published ? { ...base, publicUrl: published } : base;
  const audit = await openCliAudit(storage);
  const service = approvalServiceFor(config, storage, audit, silentLogger(), ctx.io.env);
  try {
    return await fn(service, storage, config);
  } finally {
    // Webhook deliveries (and their failure records) finish before the audit log closes.
    await service.settled();
    await audit.close();
    await storage.close();
  }
}

/** Machine-readable: the arguments as the request's one view gives them (the same in the console and webhooks). */
function row(service: ApprovalService, r: ApprovalRecord): Record<string, unknown> {
  const e = service.effective(r);
  const view = argumentsView(r);
  return {
    id: e.id,
    status: e.status,
    level: e.level,
    requester: e.requester.sub,
    client: e.requester.client,
    target: e.target,
    ...approvalArgumentFields(e, view),
    ...(e.breakGlass ? { breakGlass: true } : {}),
    ...(e.usedAt ? { usedAt: new Date(e.usedAt).toISOString() } : {}),
    url: service.urlFor(e.id),
  };
}

/** For people: every line of the arguments view, never shortened; untrusted text escaped like the view. */
function describeRecord(service: ApprovalService, r: ApprovalRecord): string {
  const e = service.effective(r);
  const view = argumentsView(r);
  const client = e.requester.client === undefined ? '(none named)' : visibleText(e.requester.client);
  const releases =
    e.decidedAt && e.status !== 'denied'
      ? e.anyClient
        ? 'released for any client of this user'
        : 'released for this client only'
      : 'an approval releases this client only, unless --any-client';
  const lines = [
    `${e.id}  ${e.status.toUpperCase()}  (${e.level})`,
    `  requester: ${visibleText(e.requester.sub)}${e.requester.groups.length ? ` [${e.requester.groups.map(visibleText).join(', ')}]` : ''}`,
    `  client:    ${client} (${releases})`,
    `  call:      ${visibleText(e.target)}`,
    `  arguments: ${view.hidden ? 'WARNING: ' : ''}${INTEGRITY_NOTE[view.integrity]}`,
    ...view.text.split('\n').map((line) => `    ${line}`),
    `  args hash: ${e.argsHash}`,
    `  view:      ${view.viewHash} (${view.characters} characters, ${view.lines} lines)`,
  ];
  if (e.reason) lines.push(`  reason:    ${visibleText(JSON.stringify(e.reason))} (stated by the agent)`);
  if (e.policy) lines.push(`  policy:    ${e.policy}`);
  lines.push(`  expires:   ${new Date(e.expiresAt).toISOString()}`);
  if (e.decidedBy)
    lines.push(
      `  decided:   ${e.status === 'used' ? 'approved' : e.status} by ${visibleText(e.decidedBy)} via ${e.decidedVia}${e.breakGlass ? ' (BREAK-GLASS)' : ''}${e.note ? `: ${visibleText(JSON.stringify(e.note))}` : ''}`,
    );
  if (e.usedBy) lines.push(`  used:      ${new Date(e.usedAt as number).toISOString()} by request ${e.usedBy}`);
  return lines.join('\n');
}

export const approvalsListCommand = defineCommand(COMMAND_SPECS.approvalsList, async (ctx) => {
  const status = ctx.values.status ?? 'pending';
  if (status !== 'all' && !(STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status must be one of ${[...STATUSES, 'all'].join(', ')}`);
  const limit = ctx.values.limit ? Number(ctx.values.limit) : 50;
  if (!Number.isInteger(limit) || limit <= 0) throw new UsageError('--limit must be a positive integer');
  return withService(ctx as never, async (service) => {
    // Expiry is read, not written: a pending record past its expiry lists as expired.
    const stored =
      status === 'expired' ? ['pending', 'approved', 'expired'] : status === 'pending' || status === 'approved' ? [status] : status === 'all' ? [] : [status];
    const records = (await service.list({ status: stored as ApprovalStatus[], ...(ctx.values.requester ? { requester: ctx.values.requester } : {}), limit }))
      .map((r) => service.effective(r))
      .filter((r) => status === 'all' || r.status === status);
    ctx.print(
      records.map((r) => row(service, r)),
      records.length === 0 ? `no ${status === 'all' ? '' : `${status} `}approval requests` : records.map((r) => describeRecord(service, r)).join('\n\n'),
    );
    return ExitCode.Ok;
  });
});

export const approvalsShowCommand = defineCommand(COMMAND_SPECS.approvalsShow, async (ctx) => {
  return withService(ctx as never, async (service) => {
    const record = await service.get(ctx.positionals[0] as string);
    if (!record) {
      ctx.err(`gatehouse approvals show: no approval request ${ctx.positionals[0]}`);
      return ExitCode.Failed;
    }
    ctx.print(row(service, record), describeRecord(service, record));
    return ExitCode.Ok;
  });
});

function decideCommand(decision: 'approve' | 'deny') {
  return defineCommand(decision === 'approve' ? COMMAND_SPECS.approvalsApprove : COMMAND_SPECS.approvalsDeny, async (ctx) => {
    const as = ctx.values.as;
    if (!as) throw new UsageError('--as USER is required: who is deciding');
    if (!ctx.values.config) throw new UsageError('--config FILE is required: approver roles are configured there (approvals.approvers)');
    const breakGlass = ctx.values['break-glass'] === true;
    if (breakGlass && decision === 'deny') throw new UsageError('--break-glass only applies to approve');
    if (breakGlass && !ctx.values.reason) throw new UsageError('--break-glass needs --reason TEXT (why this cannot wait for a second person)');
    const acknowledgeHidden = ctx.values['acknowledge-hidden'] === true;
    const anyClient = ctx.values['any-client'] === true;
    if (decision === 'deny' && (acknowledgeHidden || anyClient)) throw new UsageError('--acknowledge-hidden and --any-client only apply to approve');
    const id = ctx.positionals[0] as string;
    return withService(ctx as never, async (service, storage, config) => {
      const os = osUser();
      try {
        let groups: string[];
        try {
          ({ groups } = await approverGroups(as, storage.users, config.approvals.directory));
        } catch (error) {
          if (error instanceof ApprovalActionError)
            service.refused(id, { sub: as, via: 'cli', osUser: os }, error.reason, error.message, await service.get(id));
          throw error;
        }
        const record = await service.decide(
          id,
          { sub: as, groups, via: 'cli', osUser: os },
          {
            decision,
            breakGlass,
            note: breakGlass ? ctx.values.reason : (ctx.values.note ?? ctx.values.reason),
            acknowledgeHidden,
            anyClient,
          },
        );
        const verb =
          record.status === 'approved' ? `${record.breakGlass ? 'APPROVED (BREAK-GLASS)' : 'approved'}${record.anyClient ? ' for any client' : ''}` : 'denied';
        ctx.print(row(service, record), `${id} ${verb} by ${as}\n${describeRecord(service, record)}`);
        return ExitCode.Ok;
      } catch (error) {
        if (!(error instanceof ApprovalActionError)) throw error;
        if (ctx.values.json) ctx.print({ ok: false, reason: error.reason, message: error.message }, '');
        else ctx.err(`gatehouse approvals ${decision}: refused (${error.reason}): ${error.message}`);
        return ExitCode.Failed;
      }
    });
  });
}

export const approvalsApproveCommand = decideCommand('approve');
export const approvalsDenyCommand = decideCommand('deny');

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
