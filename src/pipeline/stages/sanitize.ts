import type { Sanitizer } from '../../sanitize/index.js';
import type { Stage } from '../types.js';

/**
 * Checks what an operation returns before it travels back: the result of `execute` (a tool
 * result, resource contents, prompt messages, completions, list results) goes through the
 * outbound sanitizer, so the credentials Gatehouse holds never flow back to the agent,
 * whatever a downstream echoes. The transport checks every message again on the wire (errors,
 * notifications, requests to the client); a result checked here is not rescanned there.
 */
export function sanitizeStage(sanitizer: Sanitizer): Stage {
  return {
    name: 'sanitize',
    async run(ctx, next) {
      return sanitizer.sanitize(await next(), { kind: 'result', method: ctx.op.method });
    },
  };
}
