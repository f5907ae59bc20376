import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { fakeCall } from '../../test/helpers/call-context.js';
import { parseExposition, sampleValue } from '../../test/helpers/prometheus-text.js';
import { PolicyDeniedError, RateLimitedError, UpstreamError } from '../errors/index.js';
import { composePipeline } from '../pipeline/index.js';
import type { CallContext, Stage } from '../pipeline/index.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { pipelineMetrics } from './pipeline-metrics.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function metricsWith(options: { maxToolLabels?: number } = {}) {
  return new GatewayMetrics({ sessions: () => 3, pendingApprovals: async () => 2 }, { maxToolLabels: options.maxToolLabels ?? 100 });
}

/** authorize (allows, or throws `refuse`) → execute (answers `result`, throws `fail`, or waits `ms`). */
function pipelineFor(metrics: GatewayMetrics, behave: { refuse?: Error; fail?: Error; result?: Result; ms?: number; outerMs?: number } = {}) {
  const outer: Stage = {
    name: 'audit-outcome',
    async run(_ctx, next) {
      if (behave.outerMs) await sleep(behave.outerMs);
      return next();
    },
  };
  const authorize: Stage = {
    name: 'authorize',
    async run(ctx, next) {
      if (behave.refuse) throw behave.refuse;
      ctx.decision = { effect: 'allow' };
      return next();
    },
  };
  const execute: Stage = {
    name: 'execute',
    async run() {
      if (behave.ms) await sleep(behave.ms);
      if (behave.fail) throw behave.fail;
      return behave.result ?? { content: [{ type: 'text', text: 'ok' }] };
    },
  };
  return composePipeline([outer, authorize, execute], [pipelineMetrics(metrics)]);
}

async function samples(metrics: GatewayMetrics) {
  return parseExposition(await metrics.exposition());
}

describe('pipeline metrics', () => {
  it('counts calls by server, tool, decision and outcome', async () => {
    const metrics = metricsWith();
    await pipelineFor(metrics)(fakeCall());
    await pipelineFor(metrics)(fakeCall());
    await expect(pipelineFor(metrics, { refuse: new PolicyDeniedError('not_allowed', 'no') })(fakeCall())).rejects.toThrow('no');
    await pipelineFor(metrics, { result: { content: [], isError: true } })(fakeCall({ op: { id: 'echo__echo', name: 'echo' } }));
    const s = await samples(metrics);
    expect(sampleValue(s, 'gatehouse_calls_total', { server: 'echo', tool: 'echo__add', decision: 'allow', outcome: 'ok' })).toBe(2);
    expect(sampleValue(s, 'gatehouse_calls_total', { server: 'echo', tool: 'echo__add', decision: 'deny', outcome: 'denied' })).toBe(1);
    expect(sampleValue(s, 'gatehouse_calls_total', { server: 'echo', tool: 'echo__echo', decision: 'allow', outcome: 'error' })).toBe(1);
    expect(sampleValue(s, 'gatehouse_call_duration_seconds_count', { server: 'echo' })).toBe(4);
    // A refused call never reached the upstream: three execute runs, not four.
    expect(sampleValue(s, 'gatehouse_upstream_duration_seconds_count', { server: 'echo' })).toBe(3);
    expect(sampleValue(s, 'gatehouse_upstream_errors_total', { server: 'echo', code: 'tool.error' })).toBe(1);
  });

  it('keeps a refusal after an allow decision apart: decision allow, outcome denied', async () => {
    const metrics = metricsWith();
    const limited: Stage = {
      name: 'rate-limit',
      async run() {
        throw new RateLimitedError('slow down', 1000, 'tool.burst');
      },
    };
    const allow: Stage = {
      name: 'authorize',
      async run(ctx, next) {
        ctx.decision = { effect: 'allow' };
        return next();
      },
    };
    await expect(composePipeline([allow, limited], [pipelineMetrics(metrics)])(fakeCall())).rejects.toThrow('slow down');
    expect(sampleValue(await samples(metrics), 'gatehouse_calls_total', { decision: 'allow', outcome: 'denied' })).toBe(1);
  });

  it('counts upstream errors by stable code, never by message', async () => {
    const metrics = metricsWith();
    const secretish = 'connect ECONNREFUSED user=alice password=hunter2';
    await expect(pipelineFor(metrics, { fail: new UpstreamError('upstream.unavailable', secretish) })(fakeCall())).rejects.toThrow();
    const text = await metrics.exposition();
    expect(sampleValue(parseExposition(text), 'gatehouse_upstream_errors_total', { server: 'echo', code: 'upstream.unavailable' })).toBe(1);
    expect(sampleValue(parseExposition(text), 'gatehouse_calls_total', { outcome: 'error' })).toBe(1);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('alice');
  });

  it("gives each stage its own time: an outer stage's histogram does not hold the upstream's wait", async () => {
    const metrics = metricsWith();
    await pipelineFor(metrics, { ms: 60, outerMs: 15 })(fakeCall());
    const s = await samples(metrics);
    const execute = sampleValue(s, 'gatehouse_stage_duration_seconds_sum', { stage: 'execute' }) ?? 0;
    const outer = sampleValue(s, 'gatehouse_stage_duration_seconds_sum', { stage: 'audit-outcome' }) ?? 0;
    const authorize = sampleValue(s, 'gatehouse_stage_duration_seconds_sum', { stage: 'authorize' }) ?? 0;
    expect(execute).toBeGreaterThanOrEqual(0.05);
    // Its own 15 ms, not the 75 ms the call took inside it.
    expect(outer).toBeGreaterThanOrEqual(0.01);
    expect(outer).toBeLessThan(0.05);
    expect(authorize).toBeLessThan(0.03);
    expect(sampleValue(s, 'gatehouse_call_duration_seconds_sum', { server: 'echo' })).toBeGreaterThanOrEqual(execute + outer - 0.001);
  });

  it('counts a cancelled call as cancelled and not as an upstream error', async () => {
    const metrics = metricsWith();
    const controller = new AbortController();
    const ctx = { ...fakeCall(), signal: controller.signal } as CallContext;
    controller.abort();
    await expect(pipelineFor(metrics, { fail: new Error('aborted') })(ctx)).rejects.toThrow('aborted');
    const s = await samples(metrics);
    expect(sampleValue(s, 'gatehouse_calls_total', { outcome: 'cancelled' })).toBe(1);
    expect(s.some((x) => x.name === 'gatehouse_upstream_errors_total')).toBe(false);
  });

  it('bounds the tool label: names past the cap share _other, and resources never use their URI', async () => {
    const metrics = metricsWith({ maxToolLabels: 3 });
    for (let i = 0; i < 50; i++) await pipelineFor(metrics)(fakeCall({ op: { id: `echo__tool_${i}`, name: `tool_${i}` } }));
    await pipelineFor(metrics)(fakeCall({ op: { kind: 'resource', method: 'resources/read', id: 'file:///home/alice/secret-plan.txt' } }));
    const text = await metrics.exposition();
    const calls = parseExposition(text).filter((x) => x.name === 'gatehouse_calls_total');
    expect(calls.map((c) => c.labels.tool).sort()).toEqual(['(resource)', '_other', 'echo__tool_0', 'echo__tool_1', 'echo__tool_2']);
    expect(sampleValue(calls, 'gatehouse_calls_total', { tool: '_other' })).toBe(47);
    expect(text).not.toContain('secret-plan');
  });

  it('reads the gauges when scraped', async () => {
    const s = await samples(metricsWith());
    expect(sampleValue(s, 'gatehouse_sessions')).toBe(3);
    expect(sampleValue(s, 'gatehouse_approvals_pending')).toBe(2);
  });
});
