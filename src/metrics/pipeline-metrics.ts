import { performance } from 'node:perf_hooks';
import type { Result } from '@modelcontextprotocol/sdk/types.js';
import type { CallContext, Next, Pipeline, PipelineObserver, Stage } from '../pipeline/index.js';
import { callOutcome, decisionLabel, errorCode } from './call-outcome.js';
import type { GatewayMetrics } from './gateway-metrics.js';

const seconds = (startMs: number) => (performance.now() - startMs) / 1000;

/** The tool label of a call: its qualified name for tools and prompts; resources are one label (a URI may carry anything). */
function toolLabel(metrics: GatewayMetrics, ctx: CallContext): string {
  return ctx.op.kind === 'resource' ? '(resource)' : metrics.tools.label(ctx.op.id);
}

/**
 * Times every stage of the call pipeline and counts every call. A stage's histogram gets its
 * own time: from its start to its `next()`, plus from the inner stages' return to its own
 * (the outermost stage's time would otherwise hold the whole call). The histogram child of
 * each stage is looked up once, when the pipeline is composed.
 */
export function pipelineMetrics(metrics: GatewayMetrics): PipelineObserver {
  return {
    stage(stage: Stage): Stage {
      const histogram = metrics.stageSeconds.series(stage.name);
      const upstream = stage.name === 'execute';
      return {
        name: stage.name,
        ...(stage.adds ? { adds: stage.adds } : {}),
        async run(ctx: CallContext, next: Next): Promise<Result> {
          const start = performance.now();
          let inner = 0;
          const timedNext: Next = async () => {
            const entered = performance.now();
            try {
              return await next();
            } finally {
              inner += performance.now() - entered;
            }
          };
          let failure: unknown;
          let result: Result | undefined;
          try {
            result = await stage.run(ctx, timedNext);
            return result;
          } catch (error) {
            failure = error ?? new Error('stage threw nothing');
            throw error;
          } finally {
            const total = performance.now() - start;
            histogram.observe((total - inner) / 1000);
            if (upstream) recordUpstream(metrics, ctx, total / 1000, result, failure);
          }
        },
      };
    },
    call(pipeline: Pipeline): Pipeline {
      return async (ctx) => {
        const start = performance.now();
        let failure: unknown;
        let result: Result | undefined;
        try {
          result = await pipeline(ctx);
          return result;
        } catch (error) {
          failure = error ?? new Error('pipeline threw nothing');
          throw error;
        } finally {
          const server = ctx.op.server;
          metrics.calls.inc(server, toolLabel(metrics, ctx), decisionLabel(ctx, failure), callOutcome(ctx, result, failure));
          metrics.callSeconds.series(server).observe(seconds(start));
        }
      };
    },
  };
}

function recordUpstream(metrics: GatewayMetrics, ctx: CallContext, took: number, result: Result | undefined, failure: unknown): void {
  const server = ctx.op.server;
  metrics.upstreamSeconds.series(server).observe(took);
  if (failure !== undefined) {
    if (!ctx.signal.aborted) metrics.upstreamErrors.labels(server, errorCode(failure)).inc();
  } else if ((result as { isError?: unknown } | undefined)?.isError === true) metrics.upstreamErrors.labels(server, 'tool.error').inc();
}
