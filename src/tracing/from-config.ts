import type { TracingConfig } from '../config/observability-schema.js';
import type { Logger } from '../log/index.js';
import type { PipelineObserver } from '../pipeline/index.js';
import { VERSION } from '../version.js';

/** Tracing of one gateway: the pipeline observer, and the exporter's flush at shutdown. */
export interface TracingWiring {
  observer: PipelineObserver;
  /** Exports the spans still queued, then stops the exporter. */
  shutdown(): Promise<void>;
}

/**
 * Nothing when `tracing` is not configured. The API, the SDK and the OTLP exporter are loaded
 * only here, when it is: a gateway without tracing never imports them.
 */
export async function tracingFromConfig(config: TracingConfig | undefined, log: Logger): Promise<TracingWiring | undefined> {
  if (!config) return undefined;
  const [
    { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { callTracing },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    // The API (a hundred modules) too: `call-tracing` imports it.
    import('./call-tracing.js'),
  ]);
  const exporter = new OTLPTraceExporter({ url: config.endpoint });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': VERSION }),
    // A client's sampled flag decides for its calls; the ratio decides for new traces.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  log.info({ exporter: config.exporter, endpoint: new URL(config.endpoint).origin }, 'tracing on');
  return {
    observer: callTracing(provider.getTracer('gatehouse', VERSION)),
    shutdown: () => provider.shutdown().catch((error: unknown) => log.warn({ err: error }, 'exporting the last spans failed')),
  };
}
