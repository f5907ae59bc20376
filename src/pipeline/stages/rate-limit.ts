import type { CallLimits } from '../../ratelimit/index.js';
import type { Stage } from '../types.js';

/**
 * Counts every call (lists excepted) against the per-user, per-user-and-tool and per-client
 * limits, after policy: a denied call does not use up anyone's quota. Exceeding a limit is a
 * JSON-RPC error with `data.retryAfterMs`, audited as a denial.
 */
export function rateLimitStage(limits: CallLimits): Stage {
  return {
    name: 'rate-limit',
    async run(ctx, next) {
      if (ctx.op.action === 'list') return next();
      await limits.take({ sub: ctx.principal.sub, clientId: ctx.principal.clientId, target: ctx.op.id });
      return next();
    },
  };
}
