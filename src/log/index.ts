export { createLogger, silentLogger, type Logger, type LoggerSettings } from './logger.js';
export {
  SecretRedactor,
  secrets,
  heldCredentials,
  registerCredential,
  unregisterCredential,
  REDACTED,
  SCAN_MARGIN,
  useEncodedForms,
  useSecretFormats,
  useHeldSpans,
  type HeldSpanSource,
} from './redactor.js';
export { capStrings, MAX_RECORDED_STRING, type Cutter } from './cap-strings.js';
