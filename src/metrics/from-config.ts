import type { AuditLog } from '../audit/index.js';
import type { MetricsConfig } from '../config/observability-schema.js';
import type { Logger } from '../log/index.js';
import type { PipelineObserver } from '../pipeline/index.js';
import type { CallLimits, RateLimitStore } from '../ratelimit/index.js';
import type { GatewayMetrics, MetricsSources } from './gateway-metrics.js';
import type { MetricsServer } from './metrics-server.js';

/** The metrics of one gateway: what the pipeline, the audit log and the rate limits report to, and the listener. */
export interface MetricsWiring {
  metrics: GatewayMetrics;
  observer: PipelineObserver;
  server: MetricsServer;
  /** Call limits that count their refusals. */
  callLimits(config: ConstructorParameters<typeof CallLimits>[0], store: RateLimitStore): CallLimits;
}

/**
 * Nothing when `metrics` is not configured: no registry, no wrappers, no listener, and
 * prom-client is not even loaded (it is imported here, when it is).
 */
export async function metricsFromConfig(
  config: MetricsConfig | undefined,
  deps: { audit: AuditLog; log: Logger; sources: MetricsSources },
): Promise<MetricsWiring | undefined> {
  if (!config) return undefined;
  const [{ GatewayMetrics }, { MeteredCallLimits }, { MetricsServer }, { pipelineMetrics }] = await Promise.all([
    import('./gateway-metrics.js'),
    import('./metered-call-limits.js'),
    import('./metrics-server.js'),
    import('./pipeline-metrics.js'),
  ]);
  const metrics = new GatewayMetrics(deps.sources, { maxToolLabels: config.maxToolLabels });
  // Counting must never fail an append or a commit.
  const guarded =
    <A extends unknown[]>(count: (...args: A) => void) =>
    (...args: A) => {
      try {
        count(...args);
      } catch (error) {
        deps.log.warn({ err: error }, 'a metric could not be recorded');
      }
    };
  deps.audit.observe({
    appended: guarded((kind, body) => metrics.audited(kind, body)),
    committed: guarded((records, seconds, ok) => metrics.auditCommitted(records, seconds, ok)),
  });
  if (!isLoopback(config.listen.host))
    deps.log.warn(
      { host: config.listen.host, port: config.listen.port },
      'the metrics listener is not on a loopback address: anyone who can reach it reads the metrics (no token is asked). Restrict it with a firewall or a private network.',
    );
  return {
    metrics,
    observer: pipelineMetrics(metrics),
    server: new MetricsServer(metrics, deps.log),
    callLimits: (limitsConfig, store) => new MeteredCallLimits([limitsConfig, store], (limit) => metrics.rateLimited(limit)),
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}
