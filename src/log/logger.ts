import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { capStrings, MAX_RECORDED_STRING } from './cap-strings.js';
import { secrets, type SecretRedactor } from './redactor.js';

export type { Logger } from 'pino';

/** Field paths that hold credentials in the objects Gatehouse logs. */
const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.Authorization',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'env',
  '*.env',
];

export interface LoggerSettings {
  level?: string;
  destination?: DestinationStream;
  redactor?: SecretRedactor;
  base?: Record<string, unknown>;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const redactor = settings.redactor ?? secrets;
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: settings.base ?? { name: 'gatehouse' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: {
      // Long strings (a client name, an upstream's error echoing a megabyte argument) are cut
      // before serialization, so the line the redactor scans is bounded too.
      logMethod(args, method) {
        method.apply(this, args.map((arg: unknown) => capStrings(arg, MAX_RECORDED_STRING, redactor.cut)) as Parameters<typeof method>);
      },
      streamWrite: (line: string) => redactor.scrub(line),
    },
    formatters: { level: (label) => ({ level: label }) },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options, pino.destination({ fd: 2, sync: false }));
}

/** A logger that discards everything (CLI commands, tests that don't inspect logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
