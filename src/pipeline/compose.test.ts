import { describe, expect, it } from 'vitest';
import { fakeCall } from '../../test/helpers/call-context.js';
import { composePipeline, orderStages, STAGE_ORDER } from './compose.js';
import type { PipelineObserver, Stage, StageOutput } from './types.js';

/** A stage that logs when it enters and leaves, and optionally stops the call. */
function tracing(name: string, log: string[], options: { stop?: Error; adds?: StageOutput[] } = {}): Stage {
  return {
    name,
    ...(options.adds ? { adds: options.adds } : {}),
    async run(_ctx, next) {
      log.push(`>${name}`);
      if (options.stop) throw options.stop;
      try {
        return await next();
      } finally {
        log.push(`<${name}`);
      }
    },
  };
}

const answer = (text: string): Stage => ({ name: 'execute', run: async () => ({ content: [{ type: 'text', text }] }) });

describe('composePipeline', () => {
  it('runs the stages in order, each wrapping the ones after it', async () => {
    const log: string[] = [];
    const pipeline = composePipeline([tracing('audit-outcome', log), tracing('authorize', log), answer('done')]);
    expect(await pipeline(fakeCall())).toEqual({ content: [{ type: 'text', text: 'done' }] });
    expect(log).toEqual(['>audit-outcome', '>authorize', '<authorize', '<audit-outcome']);
  });

  it('lets an outer stage see the error of an inner one, and runs nothing after a stage that throws', async () => {
    const log: string[] = [];
    let seen: unknown;
    const outer: Stage = {
      name: 'audit-outcome',
      async run(_ctx, next) {
        try {
          return await next();
        } catch (error) {
          seen = error;
          throw error;
        }
      },
    };
    const refused = new Error('refused');
    const executed: string[] = [];
    const pipeline = composePipeline([outer, tracing('authorize', log, { stop: refused }), { name: 'execute', run: async () => (executed.push('x'), {}) }]);
    await expect(pipeline(fakeCall())).rejects.toBe(refused);
    expect(seen).toBe(refused);
    expect(executed).toEqual([]);
    expect(log).toEqual(['>authorize']);
  });

  it('gives every call its own run: the same pipeline serves concurrent calls', async () => {
    const pipeline = composePipeline([
      { name: 'validate', run: async (ctx, next) => ((ctx.notes.agentReason = ctx.requestId), next()) },
      { name: 'execute', run: async (ctx) => ({ reason: ctx.notes.agentReason }) },
    ]);
    const a = fakeCall();
    const b = { ...fakeCall(), requestId: 'req-2', notes: {} };
    expect(await Promise.all([pipeline(a), pipeline(b)])).toEqual([{ reason: 'req-1' }, { reason: 'req-2' }]);
  });

  it('refuses a last stage that calls next()', async () => {
    const pipeline = composePipeline([tracing('execute', [])]);
    await expect(pipeline(fakeCall())).rejects.toThrow('the last pipeline stage must not call next()');
  });

  it('refuses no stages, two stages of one name, and two stages that write the same field', () => {
    expect(() => composePipeline([])).toThrow('a pipeline needs at least one stage');
    expect(() => composePipeline([answer('a'), answer('b')])).toThrow('duplicate pipeline stage "execute"');
    expect(() =>
      composePipeline([tracing('validate', [], { adds: ['notes.agentReason'] }), tracing('approve', [], { adds: ['notes.agentReason'] }), answer('x')]),
    ).toThrow('pipeline stages "validate" and "approve" both write notes.agentReason');
    expect(() =>
      composePipeline([tracing('authorize', [], { adds: ['decision'] }), tracing('approve', [], { adds: ['notes.approval'] }), answer('x')]),
    ).not.toThrow();
  });
});

describe('composePipeline with observers', () => {
  /** An observer that logs around every stage and the whole call, and counts how often it wrapped. */
  function watching(tag: string, log: string[], wraps: string[]): PipelineObserver {
    return {
      stage(stage) {
        wraps.push(`${tag}:${stage.name}`);
        return {
          name: stage.name,
          ...(stage.adds ? { adds: stage.adds } : {}),
          async run(ctx, next) {
            log.push(`${tag}[${stage.name}`);
            try {
              return await stage.run(ctx, next);
            } finally {
              log.push(`${tag}]${stage.name}`);
            }
          },
        };
      },
      call(pipeline) {
        return async (ctx) => {
          log.push(`${tag}{`);
          try {
            return await pipeline(ctx);
          } finally {
            log.push(`${tag}}`);
          }
        };
      },
    };
  }

  it('wraps each stage once, when composed, and the call outside the outermost stage', async () => {
    const log: string[] = [];
    const wraps: string[] = [];
    const pipeline = composePipeline([tracing('audit-outcome', log), answer('done')], [watching('m', log, wraps)]);
    expect(wraps).toEqual(['m:audit-outcome', 'm:execute']);
    await pipeline(fakeCall());
    await pipeline(fakeCall());
    // Wrapping happens at composition only: two calls did not wrap again.
    expect(wraps).toEqual(['m:audit-outcome', 'm:execute']);
    expect(log.slice(0, 7)).toEqual(['m{', 'm[audit-outcome', '>audit-outcome', 'm[execute', 'm]execute', '<audit-outcome', 'm]audit-outcome']);
    expect(log[7]).toBe('m}');
  });

  it('applies several observers in the order given, and passes results and errors through unchanged', async () => {
    const log: string[] = [];
    const boom = new Error('refused inside');
    const pipeline = composePipeline([tracing('authorize', log, { stop: boom }), answer('never')], [watching('a', log, []), watching('b', log, [])]);
    await expect(pipeline(fakeCall())).rejects.toBe(boom);
    // b wraps what a wrapped: b is outside a, for stages and for the call.
    expect(log).toEqual(['b{', 'a{', 'b[authorize', 'a[authorize', '>authorize', 'a]authorize', 'b]authorize', 'a}', 'b}']);
  });

  it('still refuses duplicate stages and clashing writers when observers are given', () => {
    expect(() => composePipeline([answer('x'), answer('y')], [watching('m', [], [])])).toThrow('duplicate pipeline stage "execute"');
  });

  it('runs the given stage objects themselves when there is no observer', async () => {
    const seen: Stage[] = [];
    const stage: Stage = {
      name: 'execute',
      async run() {
        seen.push(this);
        return { content: [] };
      },
    };
    await composePipeline([stage])(fakeCall());
    expect(seen).toEqual([stage]);
    expect(seen[0]).toBe(stage);
  });
});

describe('orderStages', () => {
  it('sorts stages into the canonical order whatever order they are registered in', () => {
    const stages = [...STAGE_ORDER].reverse().map((name) => tracing(name, []));
    expect(orderStages(stages).map((s) => s.name)).toEqual([...STAGE_ORDER]);
  });

  it('refuses a stage the order does not know', () => {
    expect(() => orderStages([tracing('authorise', [])])).toThrow('unknown pipeline stage "authorise"');
  });
});
