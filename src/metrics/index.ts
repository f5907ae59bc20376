// The gateway imports `from-config.js` alone: prom-client loads only when `metrics:` is set.
export { BoundedLabels, OTHER_LABEL } from './bounded-labels.js';
export { callOutcome, decisionLabel, errorCode, type CallOutcome } from './call-outcome.js';
export { GatewayMetrics, type GatewayMetricsOptions, type MetricsSources } from './gateway-metrics.js';
export { MeteredCallLimits } from './metered-call-limits.js';
export { MetricsServer } from './metrics-server.js';
export { metricsFromConfig, type MetricsWiring } from './from-config.js';
export { pipelineMetrics } from './pipeline-metrics.js';
