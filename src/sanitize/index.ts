export {
  CALLER_CREDENTIAL_TYPE,
  HELD_TYPE,
  OutputSanitizer,
  type Channel,
  type OutputSanitizerOptions,
  type SanitizeScope,
  type Sanitizer,
} from './output-sanitizer.js';
export { sanitizer } from './sanitizer.js';
export { heldValues, mirrorRegistrations } from './held.js';
export { outboundChannel } from './outbound-channel.js';
export { OutputRefusedError, SanitizeError } from './errors.js';
export { MAX_DEPTH } from './leaves.js';
export { ActionTable, type ActionRules } from './action-table.js';
export {
  CLASSIFICATIONS,
  ClassificationSchema,
  classificationRank,
  exceeds,
  isClassification,
  maxClassification,
  type Classification,
} from './classification.js';
export {
  ClearanceConfigSchema,
  FieldClassificationSchema,
  OUTPUT_ACTIONS,
  OutputLimitsSchema,
  SANITIZE_DEFAULTS,
  SanitizeConfigSchema,
  type ClearanceConfig,
  type OutputAction,
  type OutputLimits,
  type SanitizeConfig,
} from './config-schema.js';
export type { RedactionReport } from './report.js';
