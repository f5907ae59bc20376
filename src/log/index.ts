export { createLogger, silentLogger, type Logger, type LoggerSettings } from './logger.js';
export { SecretRedactor, secrets, REDACTED } from './redactor.js';
