// Detection engine of the output sanitizer: held values, secret formats and personal data in
// the string leaves of one message. Pure: no I/O, no configuration loading, no policy.

export type { DetectorKind, Finding, ScanResult, Unscanned } from './types.js';
export {
  Engine,
  DEFAULT_MAX_MESSAGE_CHARS,
  DEFAULT_MAX_SEGMENT_CHARS,
  DEFAULT_PHONE_REGION,
  type EngineOptions,
} from './engine.js';
export {
  HeldValues,
  DEFAULT_MIN_HELD_LENGTH,
  type HeldEntryInput,
  type HeldValuesOptions,
} from './held-values.js';
export { PII_KINDS, PII_TYPES, type PiiKind } from './pii-scan.js';
export { JWT_TYPE, PRIVATE_KEY_TYPE, SECRET_TYPES, UNKNOWN_SECRET_TYPE } from './secret-rules.js';
export {
  redact,
  maskPlaceholder,
  hashPlaceholder,
  DEFAULT_HASH_HEX_LENGTH,
  type ActionFor,
  type RedactOptions,
  type RenderAction,
} from './redact.js';
