export { createLogger, silentLogger, type Logger, type LoggerSettings } from './logger.js';
export { SecretRedactor, secrets, heldCredentials, registerCredential, unregisterCredential, REDACTED } from './redactor.js';
export { capStrings, MAX_RECORDED_STRING } from './cap-strings.js';
