import type { Classification } from './classification.js';
import type { OutputAction } from './config-schema.js';

/**
 * What the sanitizer did to one message, for the audit record of the call (`notes.sanitize`)
 * or, for messages outside a call, an `output.redacted` record. Counts and names only: a
 * report never holds a matched value, a hash of one, or where in the message it was.
 */
export interface RedactionReport {
  /** `result`, `error`, `notification`, `request` or `http-error`. */
  channel: string;
  /** The JSON-RPC method of the message (or of the request it answers), when known. */
  method?: string | undefined;
  classification: Classification;
  /** Findings by type (`vault`, `access_token`, `aws_access_key`, `email`, …); a value split across strings counts once. */
  redactions: Record<string, number>;
  /** Findings by the action taken on them. */
  actions: Partial<Record<OutputAction, number>>;
  /** `relayed` (possibly changed), `denied` (a `deny` action or clearance), `failed` (could not be checked). */
  outcome: 'relayed' | 'denied' | 'failed';
  /** Why a message was not relayed (e.g. `detector_error`, `deny:private_key`). */
  reason?: string;
  /** Characters cut because they were past the scan limits (never relayed unscanned). */
  unscannedChars?: number;
  /** Fields withheld because they are classified above the caller's clearance. */
  withheld?: { fields: number; names: string[]; clearance: Classification };
  /** What limits cut, with the limit that cut it. */
  truncated?: { items?: [kept: number, of: number]; rows?: [kept: number, of: number]; bytes?: [kept: number, of: number] };
  /** Aggregate-only mode replaced rows by a summary. */
  aggregated?: number;
}

export function emptyReport(channel: string, method: string | undefined, classification: Classification): RedactionReport {
  return { channel, ...(method !== undefined ? { method } : {}), classification, redactions: {}, actions: {}, outcome: 'relayed' };
}

/** True when the report says something happened (worth an audit record of its own). */
export function reportIsNotable(report: RedactionReport): boolean {
  return (
    report.outcome !== 'relayed' ||
    Object.keys(report.redactions).length > 0 ||
    report.unscannedChars !== undefined ||
    report.withheld !== undefined ||
    report.truncated !== undefined ||
    report.aggregated !== undefined
  );
}
