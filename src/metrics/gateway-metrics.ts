import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditBody, AuditKindName } from '../audit/index.js';
import { BoundedLabels } from './bounded-labels.js';
import { LightCounter, LightHistogram } from './light-metrics.js';

/** Seconds: from 50 µs (a stage that only checks a field) to 10 s (a slow upstream). */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** What the gauges read when Prometheus scrapes (nothing is counted between scrapes). */
export interface MetricsSources {
  /** Open MCP sessions. */
  sessions(): number;
  /** Approval requests still waiting for a person (unexpired). */
  pendingApprovals(): Promise<number>;
}

export interface GatewayMetricsOptions {
  /** Distinct tool label values kept before the rest share `_other`. */
  maxToolLabels: number;
  /** Distinct redaction types kept before the rest share `_other`. */
  maxRedactionTypes?: number;
}

/**
 * The gateway's Prometheus metrics, in a registry of its own (not prom-client's global one, so
 * two gateways in one process do not share counters). Label values come only from the
 * configuration and from fixed vocabularies (stage names, decisions, outcomes, error codes,
 * address classes, detector types), never from what a client sends, and never name a user.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly tools: BoundedLabels;
  readonly #redactionTypes: BoundedLabels;
  readonly #channels = new BoundedLabels(16);
  readonly calls: LightCounter<'server' | 'tool' | 'decision' | 'outcome'>;
  readonly callSeconds: LightHistogram;
  readonly stageSeconds: LightHistogram;
  readonly upstreamSeconds: LightHistogram;
  readonly upstreamErrors: Counter<'server' | 'code'>;
  readonly #auditCommitSeconds: Histogram<'result'>;
  readonly #auditBatch: Histogram;
  readonly #rateLimited: Counter<'limit'>;
  readonly #egressBlocked: Counter<'class' | 'code'>;
  readonly #redactions: Counter<'type' | 'channel'>;

  constructor(sources: MetricsSources, options: GatewayMetricsOptions) {
    const registers = [this.registry];
    this.tools = new BoundedLabels(options.maxToolLabels);
    this.#redactionTypes = new BoundedLabels(options.maxRedactionTypes ?? 200);
    // Recorded several times per call: the light kinds (light-metrics.ts), formatted by the same registry.
    this.calls = new LightCounter(
      'gatehouse_calls_total',
      'Calls (tools/call, resources/read, prompts/get) through the pipeline, by server, tool, policy decision and outcome.',
      ['server', 'tool', 'decision', 'outcome'],
      this.registry,
    );
    this.callSeconds = new LightHistogram(
      'gatehouse_call_duration_seconds',
      'Time a call spent in the pipeline, every stage and the upstream included.',
      'server',
      LATENCY_BUCKETS,
      this.registry,
    );
    this.stageSeconds = new LightHistogram(
      'gatehouse_stage_duration_seconds',
      "A pipeline stage's own time per call (the stages inside it excluded).",
      'stage',
      LATENCY_BUCKETS,
      this.registry,
    );
    this.upstreamSeconds = new LightHistogram(
      'gatehouse_upstream_duration_seconds',
      'Time the connector took to run a call on its upstream (the execute stage).',
      'server',
      LATENCY_BUCKETS,
      this.registry,
    );
    this.upstreamErrors = new Counter({
      name: 'gatehouse_upstream_errors_total',
      help: 'Calls the upstream failed (a thrown error, or a tool result with isError: code tool.error), by stable error code.',
      labelNames: ['server', 'code'],
      registers,
    });
    this.#auditCommitSeconds = new Histogram({
      name: 'gatehouse_audit_commit_duration_seconds',
      help: 'Time to commit one group of audit records (transaction and sync).',
      labelNames: ['result'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#auditBatch = new Histogram({
      name: 'gatehouse_audit_batch_records',
      help: 'Audit records committed together in one group commit.',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.#rateLimited = new Counter({
      name: 'gatehouse_rate_limited_total',
      help: 'Requests refused by a rate limit, by the limit that refused them (scope.kind, e.g. user.burst).',
      labelNames: ['limit'],
      registers,
    });
    this.#egressBlocked = new Counter({
      name: 'gatehouse_egress_blocked_total',
      help: 'Outbound connections refused by the egress guard, by address class (none: the host itself was refused) and error code.',
      labelNames: ['class', 'code'],
      registers,
    });
    this.#redactions = new Counter({
      name: 'gatehouse_redactions_total',
      help: 'Findings the output sanitizer redacted or withheld, by detector type and channel (result, error, notification, …).',
      labelNames: ['type', 'channel'],
      registers,
    });
    new Gauge({
      name: 'gatehouse_sessions',
      help: 'Open MCP sessions.',
      registers,
      collect() {
        this.set(sources.sessions());
      },
    });
    new Gauge({
      name: 'gatehouse_approvals_pending',
      help: 'Approval requests waiting for a decision.',
      registers,
      async collect() {
        this.set(await sources.pendingApprovals());
      },
    });
  }

  /** One group commit of the audit log: how many records, how long, whether it succeeded. */
  auditCommitted(records: number, seconds: number, ok: boolean): void {
    this.#auditCommitSeconds.labels(ok ? 'ok' : 'failed').observe(seconds);
    if (ok) this.#auditBatch.observe(records);
  }

  /** A request refused by the limit `scope.kind`. */
  rateLimited(limit: string): void {
    this.#rateLimited.labels(limit).inc();
  }

  /**
   * Facts that are already audited, counted from the record as it is appended: refused outbound
   * connections and the sanitizer's redaction reports (of call results and of other messages).
   */
  audited(kind: AuditKindName, body: AuditBody): void {
    if (kind === 'egress.blocked') {
      const egress = body.egress as { class?: unknown } | undefined;
      this.#egressBlocked.labels(String(egress?.class ?? 'none'), String(body.outcome?.code ?? 'unknown')).inc();
      return;
    }
    const report =
      kind === 'output.redacted' ? body.sanitize : kind === 'call.result' ? (body.notes as { sanitize?: unknown } | undefined)?.sanitize : undefined;
    if (typeof report !== 'object' || report === null) return;
    const { redactions, channel } = report as { redactions?: unknown; channel?: unknown };
    if (typeof redactions !== 'object' || redactions === null) return;
    const channelLabel = this.#channels.label(typeof channel === 'string' ? channel : 'unknown');
    for (const [type, count] of Object.entries(redactions)) {
      if (typeof count === 'number' && count > 0) this.#redactions.labels(this.#redactionTypes.label(type), channelLabel).inc(count);
    }
  }

  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
