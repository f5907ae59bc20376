import { GatehouseError, InvalidArgumentsError, RpcCode } from '../../errors/index.js';
import type { Authorizer } from '../../policy/index.js';
import type { InputSchemaValidator } from '../../policy/input-schema.js';
import type { CallContext, Stage } from '../types.js';
import { authzRequest } from './authorize.js';

/** `_meta` key a client can use to state why the agent makes a call (shown to approvers). */
export const REASON_META_KEY = 'gatehouse/reason';
/** Reserved tool argument for the same, for agents that cannot set `_meta`. Removed before anything else sees the arguments. */
export const REASON_ARGUMENT = '_gatehouse_reason';
const MAX_REASON = 500;

/**
 * Checks a call's arguments before any policy runs: against the tool's `inputSchema`
 * (JSON Schema 2020-12), then against the argument types the policy schema declares.
 * Invalid arguments are refused with -32602 and nothing is forwarded. Runs inside
 * audit-outcome, so every refusal is recorded.
 *
 * It also takes the agent's stated reason out of the call (`_meta["gatehouse/reason"]` or
 * the reserved `_gatehouse_reason` argument), so the arguments that are validated, hashed,
 * approved and forwarded are exactly the tool's own.
 */
export function validateStage(validator: InputSchemaValidator, authorizer: () => Authorizer): Stage {
  return {
    name: 'validate',
    adds: ['notes.agentReason'],
    async run(ctx, next) {
      if (ctx.op.action === 'list') return next();
      takeReason(ctx);
      if (ctx.op.kind === 'tool') {
        const check = validator.check(ctx.op.id, ctx.op.inputSchema, ctx.op.args ?? {});
        if (!check.ok) {
          if (check.kind === 'invalid') throw new InvalidArgumentsError(check.message);
          throw new GatehouseError('mcp.unusable_input_schema', check.message, 502, RpcCode.UpstreamError);
        }
      }
      const problem = authorizer().argumentProblem?.(authzRequest(ctx));
      if (problem) throw new InvalidArgumentsError(problem);
      return next();
    },
  };
}

function takeReason(ctx: CallContext): void {
  const meta = ctx.params._meta as Record<string, unknown> | undefined;
  let reason = typeof meta?.[REASON_META_KEY] === 'string' ? (meta[REASON_META_KEY] as string) : undefined;
  const args = ctx.op.args;
  if (args && Object.hasOwn(args, REASON_ARGUMENT)) {
    const { [REASON_ARGUMENT]: stated, ...rest } = args;
    if (reason === undefined && typeof stated === 'string') reason = stated;
    ctx.op.args = rest;
    if (ctx.params.arguments !== undefined) ctx.params.arguments = rest;
  }
  const trimmed = reason?.trim();
  if (trimmed) ctx.notes.agentReason = trimmed.length > MAX_REASON ? `${trimmed.slice(0, MAX_REASON)}…` : trimmed;
}
