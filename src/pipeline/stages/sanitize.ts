import { exceeds, OutputRefusedError, type RedactionReport, type Sanitizer } from '../../sanitize/index.js';
import type { OutputRules } from '../../sanitize/output-rules.js';
import { shapeResult } from '../../sanitize/shape-result.js';
import type { Stage } from '../types.js';

/**
 * Checks what an operation returns before it travels back. A target classified above the
 * caller's clearance is refused before it runs (nothing is fetched to be thrown away). The
 * result of `execute` then has fields above the clearance withheld and its tool's limits
 * applied, and goes through the outbound sanitizer (held credentials, secret formats,
 * personal data). What was done is recorded in `notes.sanitize` for the audit record. The
 * transport checks every message again on the wire; a result checked here is only scanned
 * there for the caller's own credentials.
 */
export function sanitizeStage(sanitizer: Sanitizer, rules?: OutputRules): Stage {
  return {
    name: 'sanitize',
    adds: ['notes.sanitize', 'clearance'],
    async run(ctx, next) {
      const classification = rules?.classify(ctx.op);
      const clearance = rules?.clearance(ctx.principal);
      ctx.clearance = clearance;
      if (classification !== undefined && clearance !== undefined && exceeds(classification, clearance)) {
        ctx.notes.sanitize = { channel: 'result', method: ctx.op.method, classification, clearance, outcome: 'denied', reason: 'above_clearance' };
        throw new OutputRefusedError(
          'output.above_clearance',
          `"${ctx.op.id}" returns ${classification} data; your clearance (${clearance}) does not reach it.`,
          { classification, clearance },
        );
      }
      let report: RedactionReport | undefined;
      const result = await next();
      const shaped =
        rules && clearance !== undefined
          ? shapeResult(result, rules.shape(ctx.op), clearance, (report = emptyStageReport(ctx.op.method, classification!)))
          : result;
      return sanitizer.sanitize(
        shaped,
        { kind: 'result', method: ctx.op.method },
        {
          classification,
          report: (r) => {
            // The shaping facts (withheld, truncated) join the detectors' counts in one report.
            ctx.notes.sanitize = (report ? { ...r, ...pick(report) } : r) as unknown as Record<string, unknown>;
          },
        },
      );
    },
  };
}

function emptyStageReport(method: string, classification: RedactionReport['classification']): RedactionReport {
  return { channel: 'result', method, classification, redactions: {}, actions: {}, outcome: 'relayed' };
}

function pick(report: RedactionReport): Partial<RedactionReport> {
  return {
    ...(report.withheld ? { withheld: report.withheld } : {}),
    ...(report.truncated ? { truncated: report.truncated } : {}),
    ...(report.aggregated !== undefined ? { aggregated: report.aggregated } : {}),
  };
}
