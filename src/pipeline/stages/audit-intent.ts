import { AuditKind, type AuditLog } from '../../audit/index.js';
import { AuditUnavailableError, isGatehouseError } from '../../errors/index.js';
import type { Stage } from '../types.js';
import { describeCall } from './audit-outcome.js';

/**
 * Write-ahead: the intent record (who, what, decision) is on disk before anything reaches a
 * downstream system. If it cannot be written the call is refused — fail closed.
 */
export function auditIntentStage(audit: AuditLog): Stage {
  return {
    name: 'audit-intent',
    adds: ['intentSeq'],
    async run(ctx, next) {
      if (ctx.op.action === 'list') return next();
      try {
        const record = await audit.append(
          AuditKind.CallIntent,
          {
            ...describeCall(ctx),
            decision: ctx.decision ? { effect: ctx.decision.effect, policy: ctx.decision.policy } : undefined,
          },
          { durable: true },
        );
        ctx.intentSeq = record?.seq;
      } catch (error) {
        throw isGatehouseError(error) ? error : new AuditUnavailableError({ cause: error });
      }
      return next();
    },
  };
}
