import type { CallToolResult, Result } from '@modelcontextprotocol/sdk/types.js';
import type { ApprovalService } from '../../approvals/index.js';
import { hashArguments, redactArguments } from '../../audit/index.js';
import { PolicyDeniedError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { ApprovalRecord } from '../../storage/index.js';
import type { CallContext, Next, Stage } from '../types.js';

/** `_meta` key of a pending result: where the agent (or its client) finds the approval. */
export const APPROVAL_META_KEY = 'gatehouse/approval';

/**
 * Runs calls that policy allowed only with a human's approval (decision require_approval).
 *
 * 1. An approved, unused approval for exactly this call (same user, target and arguments
 *    hash) is used — once: two calls racing for it cannot both win.
 * 2. `confirm` level, when the client can ask its user (MCP elicitation): URL mode sends the
 *    person to the console page for the request; form mode asks for a yes/no in the client.
 *    The model cannot answer an elicitation; the person at the client does.
 * 3. Otherwise the call files (or joins) an approval request, announced to approvers, and
 *    waits for a decision with progress notifications, up to `approvals.wait`. Still
 *    undecided: a pending result naming the request; the agent retries with the same
 *    arguments once it is approved.
 */
export function approveStage(service: ApprovalService, log: Logger): Stage {
  return {
    name: 'approve',
    async run(ctx, next) {
      const decision = ctx.decision;
      if (!decision || decision.effect !== 'require_approval') return next();
      const argsHash = hashArguments(ctx.op.args ?? {});
      const { sub } = ctx.principal;

      const usable = await service.findUsable(sub, ctx.op.id, argsHash);
      if (usable) return proceed(ctx, next, service, usable);

      // Say why an earlier approval for this exact call does not count any more.
      const previous = await service.latest(sub, ctx.op.id, argsHash);
      const stale = previous ? service.effective(previous) : undefined;
      if (stale && (stale.status === 'used' || (stale.status === 'expired' && stale.decidedAt !== undefined))) {
        const reason = stale.status === 'used' ? 'approval_already_used' : 'approval_expired';
        service.refused(stale.id, { sub, via: 'mcp', groups: ctx.principal.groups }, reason, `A new call cannot reuse approval ${stale.id} (${stale.status}).`, stale);
        ctx.notes.previousApproval = { id: stale.id, status: stale.status };
      }

      const { record, created } = await service.request({
        level: decision.level,
        requester: { sub, groups: [...ctx.principal.groups], client: ctx.principal.clientId, session: ctx.origin.sessionId, ip: ctx.origin.ip },
        server: ctx.op.server,
        target: ctx.op.id,
        method: ctx.op.method,
        args: redactArguments(ctx.op.args ?? {}),
        argsHash,
        reason: typeof ctx.notes.agentReason === 'string' ? ctx.notes.agentReason : undefined,
        policy: decision.policy,
        requestId: ctx.requestId,
      });
      ctx.notes.approval = { id: record.id, level: record.level, created };

      if (decision.level === 'confirm' && ctx.client && (ctx.client.elicitation.url || ctx.client.elicitation.form)) {
        const confirmed = await confirmByElicitation(ctx, service, record, log);
        if (confirmed) return proceed(ctx, next, service, confirmed);
        return pending(ctx, service, record);
      }

      return waitAndProceed(ctx, next, service, record);
    },
  };
}

async function waitAndProceed(ctx: CallContext, next: Next, service: ApprovalService, record: ApprovalRecord): Promise<Result> {
  const announce = (elapsedMs: number) =>
    ctx.progress?.({
      progress: Math.floor(elapsedMs / 1000),
      message: `Waiting for ${record.level === 'four-eyes' ? 'a second person to approve' : 'you to confirm'} ${record.id} (expires ${new Date(record.expiresAt).toISOString()})`,
    });
  announce(0);
  const outcome = await service.waitForDecision(record.id, { signal: ctx.signal, timeoutMs: service.settings.waitMs, onTick: announce });
  if (outcome.kind === 'cancelled') throw Object.assign(new Error('cancelled while waiting for approval'), { name: 'AbortError' });
  if (outcome.kind === 'timeout') return pending(ctx, service, outcome.record);
  if (outcome.record.status === 'approved') return proceed(ctx, next, service, outcome.record);
  return refuseFor(ctx, outcome.record);
}

/** A decided request that does not let the call run: denied, expired, or used by another call. */
function refuseFor(ctx: CallContext, record: ApprovalRecord): never {
  switch (record.status) {
    case 'denied':
      ctx.notes.approval = { id: record.id, status: 'denied', by: record.decidedBy };
      throw new PolicyDeniedError('approval_denied', `The call to "${ctx.op.id}" was not approved (request ${record.id} was denied).`, { policy: ctx.decision?.policy, data: { approvalId: record.id } });
    case 'expired':
      throw new PolicyDeniedError('approval_expired', `Approval request ${record.id} for "${ctx.op.id}" expired before it was approved.`, { policy: ctx.decision?.policy, data: { approvalId: record.id } });
    default:
      // 'used' by a concurrent call with the same arguments, between the decision and now.
      throw new PolicyDeniedError('approval_already_used', `Approval ${record.id} has already been used by another call; each approval allows one call.`, { policy: ctx.decision?.policy, data: { approvalId: record.id } });
  }
}

async function proceed(ctx: CallContext, next: Next, service: ApprovalService, record: ApprovalRecord): Promise<Result> {
  if (!(await service.consume(record, ctx.requestId))) {
    throw new PolicyDeniedError('approval_already_used', `Approval ${record.id} has already been used by another call; each approval allows one call.`, { policy: ctx.decision?.policy, data: { approvalId: record.id } });
  }
  ctx.notes.approval = { id: record.id, level: record.level, approvedBy: record.decidedBy, via: record.decidedVia, ...(record.breakGlass ? { breakGlass: true, breakGlassReason: record.note } : {}) };
  if (record.breakGlass) service.logBreakGlassUse(record, ctx.requestId);
  return next();
}

/** What the agent gets while the request is undecided. */
function pending(ctx: CallContext, service: ApprovalService, record: ApprovalRecord): Result {
  const url = service.urlFor(record.id);
  const who = record.level === 'four-eyes' ? 'approval by a second person' : 'confirmation by you';
  const text =
    `Approval pending: calling "${ctx.op.id}" needs ${who}. Request ${record.id} expires at ${new Date(record.expiresAt).toISOString()}. ` +
    `Approve it at ${url} or with \`gatehouse approvals approve ${record.id} --as <approver>\`, then retry this call with exactly the same arguments.`;
  ctx.notes.approval = { id: record.id, level: record.level, status: 'pending' };
  const meta = { [APPROVAL_META_KEY]: { id: record.id, status: 'pending', level: record.level, expiresAt: new Date(record.expiresAt).toISOString(), url } };
  if (ctx.op.kind !== 'tool') {
    throw new PolicyDeniedError('approval_pending', text, { policy: ctx.decision?.policy, data: { approvalId: record.id, url } });
  }
  const result: CallToolResult = { content: [{ type: 'text', text }], isError: true, _meta: meta };
  return result;
}

/**
 * The confirm tier through MCP elicitation. URL mode (preferred: the person signs in to the
 * console and confirms there) or form mode (a yes/no the client shows its user). Returns the
 * approved record, or undefined when the person did not decide in time (the request stays
 * pending and can still be confirmed out of band).
 */
async function confirmByElicitation(ctx: CallContext, service: ApprovalService, record: ApprovalRecord, log: Logger): Promise<ApprovalRecord | undefined> {
  const client = ctx.client as NonNullable<CallContext['client']>;
  const timeoutMs = service.settings.waitMs;
  const what = `"${ctx.op.id}" with arguments ${JSON.stringify(record.args)}`;
  try {
    if (client.elicitation.url) {
      const answer = await client.elicit(
        { mode: 'url', elicitationId: record.id, url: service.urlFor(record.id), message: `Gatehouse needs you to confirm the call to ${what}. Open the page to review and confirm it.` },
        { signal: ctx.signal, timeoutMs },
      );
      if (answer.action === 'decline') return declined(ctx, service, record);
      if (answer.action !== 'accept') return undefined;
      const outcome = await service.waitForDecision(record.id, { signal: ctx.signal, timeoutMs });
      if (outcome.kind === 'cancelled') throw Object.assign(new Error('cancelled while waiting for confirmation'), { name: 'AbortError' });
      if (outcome.kind === 'timeout') return undefined;
      void client.elicitationComplete(record.id).catch(() => undefined);
      if (outcome.record.status === 'approved') return outcome.record;
      return refuseFor(ctx, outcome.record);
    }
    const answer = await client.elicit(
      {
        mode: 'form',
        message: `Allow the agent to call ${what}?${record.reason ? ` The agent says: ${record.reason}` : ''}`,
        requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean', title: 'Allow this call', description: `Run ${ctx.op.id} once with exactly these arguments` } }, required: ['confirm'] },
      },
      { signal: ctx.signal, timeoutMs },
    );
    if (answer.action === 'accept' && answer.content?.confirm === true) {
      return await service.decide(record.id, { sub: ctx.principal.sub, groups: ctx.principal.groups, via: 'elicitation' }, { decision: 'approve', note: 'confirmed in the MCP client (elicitation form)' });
    }
    if (answer.action === 'cancel') return undefined;
    return declined(ctx, service, record);
  } catch (error) {
    if ((error as Error).name === 'AbortError' || error instanceof PolicyDeniedError) throw error;
    log.warn({ approval: record.id, err: (error as Error).message }, 'elicitation failed; the request stays pending');
    return undefined;
  }
}

async function declined(ctx: CallContext, service: ApprovalService, record: ApprovalRecord): Promise<never> {
  await service.decide(record.id, { sub: ctx.principal.sub, groups: ctx.principal.groups, via: 'elicitation' }, { decision: 'deny', note: 'declined in the MCP client' }).catch(() => undefined);
  throw new PolicyDeniedError('confirmation_declined', `The call to "${ctx.op.id}" was not confirmed.`, { policy: ctx.decision?.policy, data: { approvalId: record.id } });
}
