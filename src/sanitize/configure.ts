import { createHash, createSecretKey } from 'node:crypto';
import { ActionTable } from './action-table.js';
import type { Classification } from './classification.js';
import type { SanitizeConfig } from './config-schema.js';
import type { OutputSanitizer } from './output-sanitizer.js';
import { logHeldSpans, sanitizer } from './sanitizer.js';
import { outputRules, type OutputRules, type ServerOutputConfig } from './output-rules.js';
import type { RedactionReport } from './report.js';

export interface SanitizeSetup {
  sanitize: SanitizeConfig;
  servers: Readonly<Record<string, ServerOutputConfig>>;
  /** Pre-registered OAuth client ids (they get the `registered` client cap). */
  registeredClients: readonly string[];
  /** Resolves `hashKey` (`vault:NAME`, `${VAR}`); the value is registered as a held credential by the resolver. */
  resolveSecret: (value: string, where: string) => string | Promise<string>;
  /** Reports of messages outside a call (errors, notifications) where something was redacted. */
  onReport?: (report: RedactionReport) => void;
}

/**
 * Applies the `sanitize` block to the process-wide sanitizer and returns the rules of the
 * pipeline stage (classification, clearance, shaping).
 */
export async function configureSanitizer(target: OutputSanitizer, setup: SanitizeSetup): Promise<OutputRules> {
  const s = setup.sanitize;
  const hashKey =
    s.hashKey === undefined
      ? undefined
      : createSecretKey(
          createHash('sha256')
            .update(await setup.resolveSecret(s.hashKey, 'sanitize.hashKey'))
            .digest(),
        );
  target.configure({
    detectors: s.detectors,
    pii: s.pii,
    phoneRegion: s.phoneRegion,
    actions: new ActionTable(s.actions as Record<string, Record<string, never>>),
    ...(hashKey ? { hashKey } : {}),
    defaultClassification: s.defaultClassification,
    maxScanChars: s.maxScanBytes,
    maxSegmentChars: s.maxSegmentBytes,
    ...(setup.onReport ? { onReport: setup.onReport } : {}),
  });
  target.prepareSoon();
  // Logs match held values with the exit point's automaton: the same detector setting shares it.
  if (target === sanitizer) logHeldSpans.secretRules(s.detectors?.secrets ?? true);
  return outputRules(
    setup.servers,
    { defaultClassification: s.defaultClassification as Classification, clearance: s.clearance },
    new Set(setup.registeredClients),
  );
}
