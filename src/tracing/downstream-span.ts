import type { Attributes } from '@opentelemetry/api';
import type { CallContext } from '../pipeline/index.js';

/** A span for one request to a downstream system, and the `traceparent` that names it. */
export interface DownstreamSpan {
  readonly traceparent: string;
  end(outcome: { error?: string; httpStatus?: number }): void;
}

type Starter = (name: string, attributes: Attributes) => DownstreamSpan;

/**
 * How each traced call in flight starts a downstream span. Kept apart from the tracer (and the
 * OpenTelemetry API it loads) so connectors can ask without loading it: a gateway without
 * `tracing:` never does.
 */
const starters = new WeakMap<CallContext, Starter>();

/** Registers (or, with nothing, forgets) how `ctx` starts its downstream spans. */
export function traceDownstream(ctx: CallContext, starter: Starter | undefined): void {
  if (starter) starters.set(ctx, starter);
  else starters.delete(ctx);
}

/**
 * A child span of the call's current stage for one request a connector sends downstream, or
 * nothing when the call is not traced. Attributes name the request, never its arguments or
 * credentials.
 */
export function startDownstreamSpan(ctx: CallContext, name: string, attributes: Attributes): DownstreamSpan | undefined {
  return starters.get(ctx)?.(name, attributes);
}
