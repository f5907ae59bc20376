// `callTracing` is not exported here: it loads the OpenTelemetry API, which `tracingFromConfig`
// imports only when tracing is configured.
export { startDownstreamSpan, type DownstreamSpan } from './downstream-span.js';
export { tracingFromConfig, type TracingWiring } from './from-config.js';
export { formatTraceparent, parseTraceparent } from './traceparent.js';
