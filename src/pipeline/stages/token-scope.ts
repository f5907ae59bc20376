import { PolicyDeniedError } from '../../errors/index.js';
import { checkReach } from '../../tokens/index.js';
import type { Stage } from '../types.js';

/**
 * The token's own limits, per call: scopes (also checked in the front door, where a miss can
 * still become a 403 step-up challenge) and RFC 9396 `gatehouse_tool_call` authorization
 * details with their argument bounds, which only the resolved arguments can decide. Runs
 * right inside `audit-outcome`, so every refusal is recorded; before `authorize`, because a
 * token's narrowing applies whatever policy would say.
 */
export function tokenScopeStage(): Stage {
  return {
    name: 'token-scope',
    async run(ctx, next) {
      const { op } = ctx;
      if (op.action === 'list' || (op.kind !== 'tool' && op.kind !== 'prompt' && op.kind !== 'resource')) return next();
      const decision = checkReach(ctx.principal, { kind: op.kind, server: op.server, name: op.name, id: op.id, args: op.args });
      if (decision.ok) return next();
      if (decision.reason === 'scope') {
        throw new PolicyDeniedError('insufficient_scope', `This token does not reach "${op.id}"; it needs scope "${decision.missingScope}".`, {
          data: { scope: decision.missingScope },
        });
      }
      throw new PolicyDeniedError('authorization_details', `This token's authorization_details do not allow this call to "${op.id}" with these arguments.`);
    },
  };
}
