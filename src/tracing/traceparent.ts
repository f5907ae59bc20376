import type { SpanContext } from '@opentelemetry/api';

/** W3C trace-flags bit 0 (`SAMPLED` of the OpenTelemetry API, not imported: this file is loaded without tracing). */
const SAMPLED = 0x01;

/** A version-00 traceparent is exactly this long; later versions may append fields after it. */
const V00_LENGTH = 55;
const MAX_LENGTH = 512;
const HEAD = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * The remote span context of a W3C `traceparent` (Trace Context level 1), or nothing when the
 * value is not one: wrong shape, upper-case hex, version `ff`, all-zero ids, or a version-00
 * value with anything after it. A value from a later version is read by its first four fields.
 */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string' || value.length < V00_LENGTH || value.length > MAX_LENGTH) return undefined;
  const version = value.slice(0, 2);
  if (version === '00' ? value.length !== V00_LENGTH : value.length > V00_LENGTH && value[V00_LENGTH] !== '-') return undefined;
  const match = HEAD.exec(value.slice(0, V00_LENGTH));
  if (!match || version === 'ff') return undefined;
  const [, , traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & SAMPLED, isRemote: true };
}

/** The version-00 `traceparent` naming `context` as the parent. */
export function formatTraceparent(context: SpanContext): string {
  const sampled = (context.traceFlags & SAMPLED) === SAMPLED;
  return `00-${context.traceId}-${context.spanId}-${sampled ? '01' : '00'}`;
}
