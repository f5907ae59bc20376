import type { CallContext, Pipeline, PipelineObserver, Stage } from './types.js';

/**
 * Chains stages in order. Each stage wraps the ones after it, so an outer stage (the audit
 * outcome recorder) sees the result or error of everything inside it. Observers (metrics,
 * traces) wrap the stages here, once: without observers the stages run unwrapped.
 */
export function composePipeline(stages: readonly Stage[], observers: readonly PipelineObserver[] = []): Pipeline {
  if (stages.length === 0) throw new Error('a pipeline needs at least one stage');
  const names = new Set<string>();
  const writers = new Map<string, string>();
  for (const stage of stages) {
    if (names.has(stage.name)) throw new Error(`duplicate pipeline stage "${stage.name}"`);
    names.add(stage.name);
    // Two stages writing one field would overwrite each other's facts without anyone noticing.
    for (const output of stage.adds ?? []) {
      const other = writers.get(output);
      if (other !== undefined) throw new Error(`pipeline stages "${other}" and "${stage.name}" both write ${output}`);
      writers.set(output, stage.name);
    }
  }
  let chain = stages;
  for (const observer of observers) if (observer.stage) chain = chain.map((stage) => observer.stage?.(stage) ?? stage);
  let pipeline: Pipeline = (ctx: CallContext) => {
    const dispatch = (i: number): ReturnType<Pipeline> => {
      const stage = chain[i];
      if (!stage) return Promise.reject(new Error('the last pipeline stage must not call next()'));
      return stage.run(ctx, () => dispatch(i + 1));
    };
    return dispatch(0);
  };
  for (const observer of observers) if (observer.call) pipeline = observer.call(pipeline);
  return pipeline;
}

/**
 * The canonical order. Later issues insert their stages by name; nothing else moves.
 * `authenticate` runs in the front door (one token per HTTP request, not per message).
 */
export const STAGE_ORDER = [
  'audit-outcome',
  'token-scope',
  'validate',
  'authorize',
  'rate-limit',
  'approve',
  'audit-intent',
  'broker',
  'sanitize',
  'execute',
] as const;

/** Sorts stages into STAGE_ORDER so callers can register them in any order. */
export function orderStages(stages: readonly Stage[]): Stage[] {
  // Every stage is ranked up front: a sort of one stage would never ask for its rank.
  const ranked = stages.map((stage) => {
    const rank = (STAGE_ORDER as readonly string[]).indexOf(stage.name);
    if (rank < 0) throw new Error(`unknown pipeline stage "${stage.name}"`);
    return { stage, rank };
  });
  return ranked.sort((a, b) => a.rank - b.rank).map((r) => r.stage);
}
