import { z } from 'zod';

/** Defaults of the `metrics` and `tracing` sections (both off unless configured). */
export const OBSERVABILITY_DEFAULTS = {
  metrics: { host: '127.0.0.1', port: 9464, maxToolLabels: 1000 },
  tracing: { serviceName: 'gatehouse', sampleRatio: 1 },
};

/**
 * `metrics`: Prometheus text at `/metrics` on a listener of its own, never on the MCP port. Off
 * when the section is absent.
 */
export const MetricsConfigSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().min(1).default(OBSERVABILITY_DEFAULTS.metrics.host),
      port: z.number().int().min(0).max(65535).default(OBSERVABILITY_DEFAULTS.metrics.port),
    })
    .prefault({}),
  /** Distinct tool names used as label values; tools past the cap are counted as `_other`. */
  maxToolLabels: z.number().int().min(1).max(100_000).default(OBSERVABILITY_DEFAULTS.metrics.maxToolLabels),
});

/** `tracing`: OpenTelemetry spans per call, exported over OTLP/HTTP. Off when the section is absent. */
export const TracingConfigSchema = z.strictObject({
  exporter: z.literal('otlp-http'),
  /** The collector's traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
  endpoint: z.url({ protocol: /^https?$/ }),
  serviceName: z.string().min(1).max(200).default(OBSERVABILITY_DEFAULTS.tracing.serviceName),
  /** Share of new traces recorded (0–1); a client's sampled flag is followed for calls that carry a traceparent. */
  sampleRatio: z.number().min(0).max(1).default(OBSERVABILITY_DEFAULTS.tracing.sampleRatio),
});

export type MetricsConfig = z.infer<typeof MetricsConfigSchema>;
export type TracingConfig = z.infer<typeof TracingConfigSchema>;
