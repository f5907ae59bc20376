import { PolicyDeniedError } from '../../errors/index.js';
import type { Authorizer } from '../../policy/index.js';
import type { Stage } from '../types.js';

/**
 * Asks the policy decision point. Identity comes from the verified token; the operation from
 * the gateway's own catalog. List requests pass: their items are filtered one by one.
 */
export function authorizeStage(authorizer: () => Authorizer): Stage {
  return {
    name: 'authorize',
    async run(ctx, next) {
      if (ctx.op.action === 'list') return next();
      const decision = authorizer().decide({
        principal: ctx.principal,
        action: ctx.op.action,
        server: ctx.op.server,
        kind: ctx.op.kind,
        id: ctx.op.id,
        args: ctx.op.args,
        annotations: ctx.op.annotations,
      });
      ctx.decision = decision;
      if (decision.effect === 'deny') throw new PolicyDeniedError(decision.reason, decision.message, { policy: decision.policy });
      // Until an approval stage exists, "needs approval" cannot be satisfied: refuse.
      if (decision.effect === 'require_approval' && !ctx.notes.approved) {
        throw new PolicyDeniedError('approval_required', `Calling "${ctx.op.id}" requires approval by a second person.`, { policy: decision.policy });
      }
      return next();
    },
  };
}
