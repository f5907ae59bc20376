import type { CallLimits } from '../../ratelimit/index.js';
import type { Stage } from '../types.js';

/**
 * Counts each call against the per-user-and-target limit (`rateLimits.tool`, or the tool's
 * override), after policy: a call policy refused does not use up that tool's quota. The per-user
 * and per-client limits were already taken for every request before it was resolved (the
 * Router), so a flood of requests of any kind is refused before anything costly runs.
 * Exceeding a limit is a JSON-RPC error with `data.retryAfterMs`, audited as a denial.
 */
export function rateLimitStage(limits: CallLimits): Stage {
  return {
    name: 'rate-limit',
    async run(ctx, next) {
      if (ctx.op.action === 'list') return next();
      await limits.takeTarget({ sub: ctx.principal.sub, target: ctx.op.id });
      return next();
    },
  };
}
