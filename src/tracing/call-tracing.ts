import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { type Attributes, type Context, ROOT_CONTEXT, type Span, type SpanContext, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { isGatehouseError, RefusedError } from '../errors/index.js';
import type { CallContext, Next, Pipeline, PipelineObserver, Stage } from '../pipeline/index.js';
import { type DownstreamSpan, traceDownstream } from './downstream-span.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

/** The trace position of each call in flight: the span its next child hangs under. */
const active = new WeakMap<CallContext, { tracer: Tracer; context: Context; recording: boolean }>();

export { startDownstreamSpan, type DownstreamSpan } from './downstream-span.js';

/** A child span of the call's current stage for one downstream request (see `startDownstreamSpan`). */
function downstreamSpan(at: { tracer: Tracer; context: Context }, name: string, attributes: Attributes): DownstreamSpan {
  const span = at.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, at.context);
  return {
    traceparent: formatTraceparent(span.spanContext()),
    end(outcome) {
      if (outcome.httpStatus !== undefined) span.setAttribute('http.response.status_code', outcome.httpStatus);
      if (outcome.error !== undefined || (outcome.httpStatus ?? 0) >= 500) {
        span.setAttribute('error.type', outcome.error ?? String(outcome.httpStatus));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

/** The client's trace context: `params._meta.traceparent` (MCP), else the HTTP header. */
function clientParent(ctx: CallContext): Context {
  const meta = ctx.params._meta as { traceparent?: unknown } | undefined;
  const remote = parseTraceparent(meta?.traceparent) ?? parseTraceparent(ctx.traceparent);
  return remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
}

function endWith(span: Span, error: unknown): void {
  if (error !== undefined) {
    const code = isGatehouseError(error) ? error.code : 'internal';
    span.setAttribute('error.type', code);
    // A refusal is the gateway doing its job, not a failure of the call path.
    if (!(error instanceof RefusedError)) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/**
 * One span per call (a child of the client's `traceparent` when it sent one), a child span per
 * stage, nested as the stages are (each stage's span holds the stages inside it), and the
 * execute stage's context handed downstream: in `params._meta.traceparent` for MCP upstreams,
 * and through `startDownstreamSpan` for connectors that make their own requests. Spans carry
 * names, ids and outcomes; no argument value, result or credential.
 */
export function callTracing(tracer: Tracer): PipelineObserver {
  return {
    call(pipeline: Pipeline): Pipeline {
      return async (ctx) => {
        const { op } = ctx;
        const target = op.kind === 'resource' ? undefined : op.id;
        const span = tracer.startSpan(
          target ? `${op.method} ${target}` : op.method,
          {
            kind: SpanKind.SERVER,
            attributes: {
              'mcp.method.name': op.method,
              'gatehouse.server': op.server,
              ...(target ? { 'gatehouse.target': target } : {}),
              'gatehouse.request_id': ctx.requestId,
            },
          },
          clientParent(ctx),
        );
        const at = { tracer, context: trace.setSpan(ROOT_CONTEXT, span), recording: span.isRecording() };
        active.set(ctx, at);
        traceDownstream(ctx, (name, attributes) => downstreamSpan(at, name, attributes));
        let failure: unknown;
        try {
          const result = await pipeline(ctx);
          if ((result as { isError?: unknown }).isError === true) span.setAttribute('gatehouse.tool_error', true);
          return result;
        } catch (error) {
          failure = error ?? new Error('pipeline threw nothing');
          throw error;
        } finally {
          if (ctx.decision) span.setAttribute('gatehouse.decision', ctx.decision.effect);
          active.delete(ctx);
          traceDownstream(ctx, undefined);
          endWith(span, failure);
        }
      };
    },
    stage(stage: Stage): Stage {
      const execute = stage.name === 'execute';
      return {
        name: stage.name,
        ...(stage.adds ? { adds: stage.adds } : {}),
        async run(ctx: CallContext, next: Next): Promise<Result> {
          const at = active.get(ctx);
          if (!at) return stage.run(ctx, next);
          if (!at.recording) {
            // A call the sampler left out gets no stage spans; the trace still goes downstream.
            if (execute) withTraceparent(ctx, trace.getSpan(at.context)?.spanContext());
            return stage.run(ctx, next);
          }
          const parent = at.context;
          const span = tracer.startSpan(`stage ${stage.name}`, { attributes: { 'gatehouse.stage': stage.name } }, parent);
          const inside = trace.setSpan(parent, span);
          at.context = inside;
          // The upstream's own spans hang under this one (MCP's `_meta.traceparent`).
          if (execute) withTraceparent(ctx, span.spanContext());
          let failure: unknown;
          try {
            return await stage.run(ctx, async () => {
              // Inner stages hang under this stage's span; back here, so do this stage's later children.
              try {
                return await next();
              } finally {
                at.context = inside;
              }
            });
          } catch (error) {
            failure = error ?? new Error('stage threw nothing');
            throw error;
          } finally {
            at.context = parent;
            endWith(span, failure);
          }
        },
      };
    },
  };
}

/** Names `context` as the parent in the `_meta.traceparent` the upstream receives (other `_meta` keys kept). */
function withTraceparent(ctx: CallContext, context: SpanContext | undefined): void {
  if (!context) return;
  const meta = ctx.params._meta;
  ctx.params = { ...ctx.params, _meta: { ...(isRecord(meta) ? meta : {}), traceparent: formatTraceparent(context) } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
