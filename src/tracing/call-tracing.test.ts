import { type Attributes, SpanStatusCode } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { fakeCall } from '../../test/helpers/call-context.js';
import { PolicyDeniedError, UpstreamError } from '../errors/index.js';
import { composePipeline, type CallContext, type Stage } from '../pipeline/index.js';
import { callTracing, startDownstreamSpan } from './call-tracing.js';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const CLIENT_PARENT = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
const SECRET_ARG = 'sk_live_do_not_export_me';

function traced(execute: Stage['run'], refuse?: Error, options: { sampler?: Sampler } = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })], ...(options.sampler ? { sampler: options.sampler } : {}) });
  const stage = (name: string): Stage => ({
    name,
    async run(ctx, next) {
      if (name === 'authorize') {
        if (refuse) throw refuse;
        ctx.decision = { effect: 'allow' };
      }
      return next();
    },
  });
  const pipeline = composePipeline([stage('audit-outcome'), stage('authorize'), { name: 'execute', run: execute }], [callTracing(provider.getTracer('test'))]);
  return { pipeline, spans: () => exporter.getFinishedSpans() };
}

const byName = (spans: ReadableSpan[], name: string) => spans.find((s) => s.name === name) as ReadableSpan;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const allAttributes = (spans: ReadableSpan[]): Attributes[] => spans.map((s) => s.attributes);

describe('call tracing', () => {
  it('makes one span per call, a nested child per stage, and the client’s _meta traceparent the parent', async () => {
    let seenMeta: unknown;
    const { pipeline, spans } = traced(async (ctx) => {
      seenMeta = ctx.params._meta;
      return { content: [] };
    });
    await pipeline(fakeCall({ params: { name: 'add', arguments: { key: SECRET_ARG }, _meta: { traceparent: CLIENT_PARENT, other: 1 } } }));
    const all = spans();
    expect(all.map((s) => s.name).sort()).toEqual(['stage audit-outcome', 'stage authorize', 'stage execute', 'tools/call echo__add']);
    const call = byName(all, 'tools/call echo__add');
    expect(call.spanContext().traceId).toBe(CLIENT_TRACE);
    expect(parentOf(call)).toBe(CLIENT_SPAN);
    expect(all.every((s) => s.spanContext().traceId === CLIENT_TRACE)).toBe(true);
    expect(parentOf(byName(all, 'stage audit-outcome'))).toBe(call.spanContext().spanId);
    expect(parentOf(byName(all, 'stage authorize'))).toBe(byName(all, 'stage audit-outcome').spanContext().spanId);
    const execute = byName(all, 'stage execute');
    expect(parentOf(execute)).toBe(byName(all, 'stage authorize').spanContext().spanId);
    // The upstream gets the execute span as its parent, and the client's other _meta keys.
    expect(seenMeta).toEqual({ traceparent: `00-${CLIENT_TRACE}-${execute.spanContext().spanId}-01`, other: 1 });
    expect(call.attributes).toMatchObject({ 'mcp.method.name': 'tools/call', 'gatehouse.server': 'echo', 'gatehouse.decision': 'allow' });
    expect(JSON.stringify(allAttributes(all))).not.toContain(SECRET_ARG);
    expect(JSON.stringify(allAttributes(all))).not.toContain('alice');
  });

  it('takes the HTTP header when _meta has none, and starts a new trace when neither is valid', async () => {
    const { pipeline, spans } = traced(async () => ({ content: [] }));
    await pipeline({ ...fakeCall(), traceparent: CLIENT_PARENT } as CallContext);
    expect(byName(spans(), 'tools/call echo__add').spanContext().traceId).toBe(CLIENT_TRACE);
    const fresh = traced(async () => ({ content: [] }));
    await fresh.pipeline({
      ...fakeCall({ params: { _meta: { traceparent: 'garbage' } } }),
      traceparent: `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`,
    } as CallContext);
    const call = byName(fresh.spans(), 'tools/call echo__add');
    expect(call.spanContext().traceId).not.toBe(CLIENT_TRACE);
    expect(call.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(call.parentSpanContext).toBeUndefined();
  });

  it('puts a downstream request span under the execute stage, and it ends with the HTTP status', async () => {
    let traceparent = '';
    const { pipeline, spans } = traced(async (ctx) => {
      const span = startDownstreamSpan(ctx, 'HTTP GET', { 'http.request.method': 'GET' });
      traceparent = span?.traceparent ?? '';
      span?.end({ httpStatus: 503 });
      return { content: [] };
    });
    await pipeline(fakeCall({ params: { _meta: { traceparent: CLIENT_PARENT } } }));
    const http = byName(spans(), 'HTTP GET');
    expect(parentOf(http)).toBe(byName(spans(), 'stage execute').spanContext().spanId);
    expect(traceparent).toBe(`00-${CLIENT_TRACE}-${http.spanContext().spanId}-01`);
    expect(http.attributes['http.response.status_code']).toBe(503);
    expect(http.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('marks an upstream failure as an error and a refusal only with its code; no message is recorded', async () => {
    const failing = traced(async () => {
      throw new UpstreamError('upstream.unavailable', `down, token ${SECRET_ARG}`);
    });
    await expect(failing.pipeline(fakeCall())).rejects.toThrow();
    const call = byName(failing.spans(), 'tools/call echo__add');
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(call.attributes['error.type']).toBe('upstream.unavailable');
    expect(JSON.stringify(failing.spans().map((s) => [s.attributes, s.status, s.events]))).not.toContain(SECRET_ARG);

    const refused = traced(async () => ({ content: [] }), new PolicyDeniedError('not_allowed', 'no'));
    await expect(refused.pipeline(fakeCall())).rejects.toThrow('no');
    const denied = byName(refused.spans(), 'tools/call echo__add');
    expect(denied.status.code).toBe(SpanStatusCode.UNSET);
    expect(denied.attributes['error.type']).toBe('policy.denied');
    // Nothing ran past the refusal: no execute span.
    expect(refused.spans().some((s) => s.name === 'stage execute')).toBe(false);
  });

  it('names a resource read by its method only (a URI may carry anything)', async () => {
    const { pipeline, spans } = traced(async () => ({ contents: [] }));
    await pipeline(fakeCall({ op: { method: 'resources/read', kind: 'resource', id: 'file:///home/alice/plans.txt', name: 'file:///home/alice/plans.txt' } }));
    expect(spans().map((s) => s.name)).toContain('resources/read');
    expect(JSON.stringify(spans().map((s) => [s.name, s.attributes]))).not.toContain('plans.txt');
  });

  it('records nothing for a call the sampler leaves out, and still carries the trace downstream', async () => {
    let seenMeta: { traceparent?: string } | undefined;
    let downstream = '';
    const { pipeline, spans } = traced(
      async (ctx) => {
        seenMeta = ctx.params._meta as typeof seenMeta;
        downstream = startDownstreamSpan(ctx, 'HTTP GET', {})?.traceparent ?? '';
        return { content: [] };
      },
      undefined,
      { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) },
    );
    // The client says "not sampled": the parent-based sampler follows it.
    await pipeline(fakeCall({ params: { _meta: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00` } } }));
    // No client trace and a root sampler that records nothing.
    await pipeline(fakeCall());
    expect(spans()).toEqual([]);
    expect(seenMeta?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(downstream).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });

  it('carries an unsampled client trace id on to the upstream', async () => {
    let seenMeta: { traceparent?: string } | undefined;
    const { pipeline, spans } = traced(async (ctx) => {
      seenMeta = ctx.params._meta as typeof seenMeta;
      return { content: [] };
    });
    await pipeline(fakeCall({ params: { _meta: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00` } } }));
    expect(spans()).toEqual([]);
    expect(seenMeta?.traceparent).toMatch(new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-00$`));
    expect(seenMeta?.traceparent).not.toContain(CLIENT_SPAN);
  });

  it('gives no downstream span outside a traced call', () => {
    expect(startDownstreamSpan(fakeCall(), 'HTTP GET', {})).toBeUndefined();
  });
});
