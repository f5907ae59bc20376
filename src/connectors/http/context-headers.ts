import { randomBytes } from 'node:crypto';
import type { HttpApiSettings } from '../../config/http-api-schema.js';

export interface CallFacts {
  actor: string;
  requestId: string;
  purpose: string;
}

/** Header-safe text: printable ASCII kept, everything else percent-encoded (UTF-8). */
function headerText(value: string): string {
  return value.slice(0, 512).replace(/[^\u0020-\u007e]|%/gu, (c) => encodeURIComponent(c));
}

/**
 * Context the downstream API can log and correlate: a W3C trace context (a new trace per call,
 * sampled), the user the agent acts for, the gateway request id and the call's purpose.
 */
export function contextHeaders(propagate: HttpApiSettings['propagate'], facts: CallFacts): Record<string, string> {
  const headers: Record<string, string> = {};
  if (propagate.traceparent) {
    const ids = randomBytes(24).toString('hex');
    headers.traceparent = `00-${ids.slice(0, 32)}-${ids.slice(32)}-01`;
  }
  if (propagate.actor) headers['x-gatehouse-actor'] = headerText(facts.actor);
  if (propagate.requestId) headers['x-gatehouse-request-id'] = headerText(facts.requestId);
  if (propagate.purpose) headers['x-gatehouse-purpose'] = headerText(facts.purpose);
  return headers;
}
