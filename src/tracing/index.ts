export { callTracing, startDownstreamSpan, type DownstreamSpan } from './call-tracing.js';
export { tracingFromConfig, type TracingWiring } from './from-config.js';
export { formatTraceparent, parseTraceparent } from './traceparent.js';
