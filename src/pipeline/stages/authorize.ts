import { hashArguments } from '../../audit/index.js';
import { PolicyDeniedError } from '../../errors/index.js';
import type { Authorizer, AuthzRequest, RequestFacts } from '../../policy/index.js';
import type { CallContext, Stage } from '../types.js';

/** Answers "is there an approval on record for exactly this call?" (for policies that read `context.approval`). */
export interface ApprovalStateLookup {
  peek(sub: string, target: string, argsHash: string, client: string | undefined): Promise<NonNullable<RequestFacts['approval']>>;
}

/** The policy request for a call: identity from the token, the operation from the catalog, facts from the request. */
export function authzRequest(ctx: CallContext, approval?: RequestFacts['approval']): AuthzRequest {
  return {
    principal: ctx.principal,
    action: ctx.op.action,
    server: ctx.op.server,
    kind: ctx.op.kind,
    id: ctx.op.id,
    args: ctx.op.args,
    annotations: ctx.op.annotations,
    facts: { method: ctx.op.method, ip: ctx.origin.ip, now: ctx.startedAt, clientName: ctx.origin.clientName, approval },
  };
}

export interface AuthorizeOptions {
  /** Present when an approve stage follows: require_approval is then its job. */
  approvals?: ApprovalStateLookup | undefined;
}

/**
 * Asks the policy decision point. Identity comes from the verified token; the operation from
 * the gateway's own catalog. List requests pass: their items are filtered one by one. A
 * require_approval decision goes on to the approve stage; without one it is refused.
 */
export function authorizeStage(authorizer: () => Authorizer, options: AuthorizeOptions = {}): Stage {
  return {
    name: 'authorize',
    adds: ['decision'],
    async run(ctx, next) {
      if (ctx.op.action === 'list') return next();
      const pdp = authorizer();
      const approval =
        pdp.readsApprovalState && options.approvals
          ? await options.approvals.peek(ctx.principal.sub, ctx.op.id, hashArguments(ctx.op.args ?? {}), ctx.principal.clientId)
          : undefined;
      const decision = pdp.decide(authzRequest(ctx, approval));
      ctx.decision = decision;
      if (decision.effect === 'deny') throw new PolicyDeniedError(decision.reason, decision.message, { policy: decision.policy });
      if (decision.effect === 'require_approval' && !options.approvals) {
        throw new PolicyDeniedError('approval_required', `Calling "${ctx.op.id}" requires approval by a second person.`, { policy: decision.policy });
      }
      return next();
    },
  };
}
