import type { CallToolResult, Result } from '@modelcontextprotocol/sdk/types.js';
import { argumentsView, visibleText, type ApprovalService, type WaitOutcome } from '../../approvals/index.js';
import { hashArguments } from '../../audit/index.js';
import { PolicyDeniedError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import type { ApprovalRecord } from '../../storage/index.js';
import type { CallContext, Next, Stage } from '../types.js';

/** `_meta` key of a pending result: where the agent (or its client) finds the approval. */
export const APPROVAL_META_KEY = 'gatehouse/approval';

/**
 * Runs calls that policy allowed only with a human's approval (decision require_approval).
 *
 * 1. An approved, unused approval for exactly this call (same user, same OAuth client — or any
 *    client, where the approver chose so — same target and arguments hash) is used — once:
 *    two calls racing for it cannot both win.
 * 2. Otherwise the call files (or joins) an approval request of its own client, with the exact
 *    arguments, announced to approvers.
 * 3. `confirm` level: the person confirms on Gatehouse's own page (signed in, CSRF-protected,
 *    fresh second factor), never in the MCP client. A client with URL-mode elicitation is sent
 *    to that page; the call proceeds only when the page (or the console, or the CLI) records
 *    the decision — whatever the client answers. The client's own form elicitation counts only
 *    with `approvals.dangerouslyAllowFormConfirm`.
 * 4. The call waits for a decision with progress notifications, up to `approvals.wait`. Still
 *    undecided: a pending result naming the request and its page; the agent retries with the
 *    same arguments once it is approved.
 */
export function approveStage(service: ApprovalService, log: Logger): Stage {
  if (service.settings.dangerouslyAllowFormConfirm) {
    log.warn(
      'approvals.dangerouslyAllowFormConfirm is on: a "yes" in the MCP client\'s own form satisfies the confirm tier, and a client that answers elicitations by itself confirms its own calls. Use only where the client is trusted.',
    );
  }
  return {
    name: 'approve',
    adds: ['notes.approval', 'notes.previousApproval'],
    async run(ctx, next) {
      const decision = ctx.decision;
      if (decision?.effect !== 'require_approval') return next();
      const argsHash = hashArguments(ctx.op.args ?? {});
      const { sub, clientId } = ctx.principal;
      const call = { sub, client: clientId, target: ctx.op.id, argsHash };

      const usable = await service.findUsable(call);
      if (usable) return proceed(ctx, next, service, usable);

      // Say why an earlier approval for this exact call does not count (any more, or from here).
      const previous = await service.latest(call);
      const stale = previous ? service.effective(previous) : undefined;
      if (stale && (stale.status === 'used' || (stale.status === 'expired' && stale.decidedAt !== undefined))) {
        const reason = stale.status === 'used' ? 'approval_already_used' : 'approval_expired';
        service.refused(
          stale.id,
          { sub, via: 'mcp', groups: ctx.principal.groups },
          reason,
          `A new call cannot reuse approval ${stale.id} (${stale.status}).`,
          stale,
        );
        ctx.notes.previousApproval = { id: stale.id, status: stale.status };
      } else if (stale && stale.status === 'approved' && !stale.anyClient && (stale.requester.client ?? '') !== (clientId ?? '')) {
        service.refused(
          stale.id,
          { sub, via: 'mcp', groups: ctx.principal.groups },
          'approval_other_client',
          `Approval ${stale.id} releases this call from client ${stale.requester.client ?? '(none)'} only, not from client ${clientId ?? '(none)'}.`,
          stale,
        );
        ctx.notes.previousApproval = { id: stale.id, status: stale.status, client: stale.requester.client };
      }

      const { record, created } = await service.request({
        level: decision.level,
        requester: { sub, groups: [...ctx.principal.groups], client: clientId, session: ctx.origin.sessionId, ip: ctx.origin.ip },
        server: ctx.op.server,
        target: ctx.op.id,
        method: ctx.op.method,
        args: ctx.op.args ?? {},
        argsHash,
        reason: typeof ctx.notes.agentReason === 'string' ? ctx.notes.agentReason : undefined,
        policy: decision.policy,
        requestId: ctx.requestId,
      });
      ctx.notes.approval = { id: record.id, level: record.level, created };

      if (decision.level === 'confirm' && ctx.client) {
        if (ctx.client.elicitation.url) return confirmOnPage(ctx, next, service, record, log);
        if (ctx.client.elicitation.form && service.settings.dangerouslyAllowFormConfirm && !record.argsMasked) {
          const confirmed = await confirmInClientForm(ctx, service, record, log);
          if (confirmed) return proceed(ctx, next, service, confirmed);
          return pending(ctx, service, record);
        }
      }

      return waitAndProceed(ctx, next, service, record);
    },
  };
}

function announcer(ctx: CallContext, record: ApprovalRecord, url: string): (elapsedMs: number) => void {
  return (elapsedMs) =>
    ctx.progress?.({
      progress: Math.floor(elapsedMs / 1000),
      message:
        record.level === 'four-eyes'
          ? `Waiting for a second person to approve ${record.id} (expires ${new Date(record.expiresAt).toISOString()})`
          : `Waiting for you to confirm ${record.id} at ${url} (expires ${new Date(record.expiresAt).toISOString()})`,
    });
}

async function waitAndProceed(ctx: CallContext, next: Next, service: ApprovalService, record: ApprovalRecord): Promise<Result> {
  const announce = announcer(ctx, record, service.urlFor(record.id));
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
      throw new PolicyDeniedError('approval_denied', `The call to "${ctx.op.id}" was not approved (request ${record.id} was denied).`, {
        policy: ctx.decision?.policy,
        data: { approvalId: record.id },
      });
    case 'expired':
      throw new PolicyDeniedError('approval_expired', `Approval request ${record.id} for "${ctx.op.id}" expired before it was approved.`, {
        policy: ctx.decision?.policy,
        data: { approvalId: record.id },
      });
    default:
      // 'used' by a concurrent call with the same arguments, between the decision and now.
      throw new PolicyDeniedError('approval_already_used', `Approval ${record.id} has already been used by another call; each approval allows one call.`, {
        policy: ctx.decision?.policy,
        data: { approvalId: record.id },
      });
  }
}

async function proceed(ctx: CallContext, next: Next, service: ApprovalService, record: ApprovalRecord): Promise<Result> {
  if (!(await service.consume(record, ctx.requestId, ctx.principal.clientId))) {
    throw new PolicyDeniedError('approval_already_used', `Approval ${record.id} has already been used by another call; each approval allows one call.`, {
      policy: ctx.decision?.policy,
      data: { approvalId: record.id },
    });
  }
  ctx.notes.approval = {
    id: record.id,
    level: record.level,
    approvedBy: record.decidedBy,
    via: record.decidedVia,
    ...(record.anyClient ? { anyClient: true } : {}),
    ...(record.breakGlass ? { breakGlass: true, breakGlassReason: record.note } : {}),
  };
  if (record.breakGlass) service.logBreakGlassUse(record, ctx.requestId);
  return next();
}

/** What the agent gets while the request is undecided. */
function pending(ctx: CallContext, service: ApprovalService, record: ApprovalRecord): Result {
  const url = service.urlFor(record.id);
  const expires = new Date(record.expiresAt).toISOString();
  const text =
    record.level === 'four-eyes'
      ? `Approval pending: calling "${ctx.op.id}" needs approval by a second person. Request ${record.id} expires at ${expires}. ` +
        `Approve it at ${url} or with \`gatehouse approvals approve ${record.id} --as <approver>\`, then retry this call with exactly the same arguments.`
      : `Confirmation pending: calling "${ctx.op.id}" needs confirmation by you on Gatehouse's page, not in this client. Request ${record.id} expires at ${expires}. ` +
        `Open ${url}, sign in as ${record.requester.sub} and confirm (or an approver runs \`gatehouse approvals approve ${record.id} --as <approver>\`), then retry this call with exactly the same arguments.`;
  ctx.notes.approval = { id: record.id, level: record.level, status: 'pending' };
  const meta = { [APPROVAL_META_KEY]: { id: record.id, status: 'pending', level: record.level, expiresAt: new Date(record.expiresAt).toISOString(), url } };
  if (ctx.op.kind !== 'tool') {
    throw new PolicyDeniedError('approval_pending', text, { policy: ctx.decision?.policy, data: { approvalId: record.id, url } });
  }
  const result: CallToolResult = { content: [{ type: 'text', text }], isError: true, _meta: meta };
  return result;
}

/**
 * The confirm tier through URL-mode elicitation (MCP 2025-11-25, elicitation "url" mode): the
 * client is asked to send its user to the request's page on Gatehouse. The client's answer is
 * not a decision — "accept" only says the user agreed to open the page, and an untrusted client
 * can say it by itself — so the call waits for the decision recorded by the page (or the
 * console, or the CLI), racing the elicitation. A decline or cancel ends the wait early; the
 * request stays open and can still be confirmed on the page before the retry.
 */
async function confirmOnPage(ctx: CallContext, next: Next, service: ApprovalService, record: ApprovalRecord, log: Logger): Promise<Result> {
  const client = ctx.client as NonNullable<CallContext['client']>;
  const url = service.urlFor(record.id);
  const timeoutMs = service.settings.waitMs;
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  const announce = announcer(ctx, record, url);
  announce(0);
  type ClientSaidNo = { kind: 'client-said-no'; action: string };
  const asked: Promise<ClientSaidNo | undefined> = client
    .elicit(
      {
        mode: 'url',
        elicitationId: record.id,
        url,
        message: `Gatehouse needs you to confirm the call to "${visibleText(ctx.op.id)}". Open the page, review the exact arguments, and confirm it there.`,
      },
      { signal, timeoutMs },
    )
    .then(
      (answer): ClientSaidNo | undefined => (answer.action === 'accept' ? undefined : { kind: 'client-said-no', action: answer.action }),
      (error: unknown) => {
        if ((error as Error).name !== 'AbortError' && !stop.signal.aborted)
          log.warn({ approval: record.id, err: (error as Error).message }, 'URL elicitation failed; waiting for the decision on the page');
        return undefined;
      },
    );
  const decided = service.waitForDecision(record.id, { signal, timeoutMs, onTick: announce });
  // The wait for the decision runs on; an early "no" from the client only ends it sooner.
  const first: WaitOutcome | ClientSaidNo = await Promise.race([
    decided,
    asked.then((said): Promise<WaitOutcome | ClientSaidNo> => (said ? Promise.resolve(said) : decided)),
  ]);
  stop.abort();
  if (first.kind === 'client-said-no') {
    log.info({ approval: record.id, action: first.action }, 'the client did not open the confirmation page; the request stays pending');
    return pending(ctx, service, record);
  }
  if (first.kind === 'cancelled') {
    if (ctx.signal.aborted) throw Object.assign(new Error('cancelled while waiting for confirmation'), { name: 'AbortError' });
    return pending(ctx, service, record);
  }
  if (first.kind === 'timeout') return pending(ctx, service, first.record);
  void client.elicitationComplete(record.id).catch(() => undefined);
  if (first.record.status === 'approved') return proceed(ctx, next, service, first.record);
  return refuseFor(ctx, first.record);
}

/**
 * Form-mode confirmation: a yes/no the client shows its user. Only with
 * `approvals.dangerouslyAllowFormConfirm`: the client is untrusted and can answer by itself.
 * Returns the approved record, or undefined when nobody decided in time.
 */
async function confirmInClientForm(ctx: CallContext, service: ApprovalService, record: ApprovalRecord, log: Logger): Promise<ApprovalRecord | undefined> {
  const client = ctx.client as NonNullable<CallContext['client']>;
  const view = argumentsView(record);
  try {
    const answer = await client.elicit(
      {
        mode: 'form',
        message: `Allow the agent to call "${visibleText(ctx.op.id)}" with these exact arguments?\n${view.text}${record.reason ? `\nThe agent says: ${visibleText(record.reason)}` : ''}`,
        requestedSchema: {
          type: 'object',
          properties: { confirm: { type: 'boolean', title: 'Allow this call', description: `Run ${ctx.op.id} once with exactly these arguments` } },
          required: ['confirm'],
        },
      },
      { signal: ctx.signal, timeoutMs: service.settings.waitMs },
    );
    if (answer.action === 'accept' && answer.content?.confirm === true) {
      return await service.decide(
        record.id,
        { sub: ctx.principal.sub, groups: ctx.principal.groups, via: 'elicitation' },
        { decision: 'approve', note: 'confirmed in the MCP client (elicitation form; approvals.dangerouslyAllowFormConfirm)' },
      );
    }
    if (answer.action === 'cancel') return undefined;
    await service
      .decide(record.id, { sub: ctx.principal.sub, groups: ctx.principal.groups, via: 'elicitation' }, { decision: 'deny', note: 'declined in the MCP client' })
      .catch(() => undefined);
    throw new PolicyDeniedError('confirmation_declined', `The call to "${ctx.op.id}" was not confirmed.`, {
      policy: ctx.decision?.policy,
      data: { approvalId: record.id },
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError' || error instanceof PolicyDeniedError) throw error;
    log.warn({ approval: record.id, err: (error as Error).message }, 'elicitation failed; the request stays pending');
    return undefined;
  }
}
