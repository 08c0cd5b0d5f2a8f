/**
 * The Node logger (shared/log/logger.ts) over pino: JSON lines on stdout, or pino-pretty's form for people (on a
 * terminal, with CONDUCTOR_LOG_FORMAT=auto). Node-only: imported by the Node host and the daemon, never by what the
 * Worker bundles (json-lines-logger.ts is the Worker's).
 */
import { pino, type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';
import { REDACTED, REDACTED_KEYS, type LogFields, type LogLevel, type Logger } from './logger.js';

export type LogFormat = 'json' | 'pretty' | 'auto';

export interface PinoLoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go, as a file descriptor (process.stdout, process.stderr, an open file): stdout by default. */
  destination?: { fd: number; isTTY?: boolean };
}

// pino's redaction names paths, not keys: a key is censored at the top, in one object (headers), or two deep.
const REDACT_PATHS = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export function pinoLogger(options: PinoLoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const prettyForm = options.format === 'pretty' || (options.format === 'auto' && destination.isTTY === true);
  const base = {
    level: options.level,
    base: null,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  };
  const logger = prettyForm
    ? pino(
        base,
        // In this thread, not a transport's worker: a line is out before the process may exit.
        pretty({
          sync: true,
          destination: destination.fd,
          colorize: destination.isTTY === true,
          translateTime: 'SYS:HH:MM:ss.l',
        }),
      )
    : pino(
        {
          ...base,
          // The Web logger's names: "level":"info", "time":"2026-…Z".
          formatters: { level: (label) => ({ level: label }) },
          timestamp: pino.stdTimeFunctions.isoTime,
        },
        pino.destination({ dest: destination.fd, sync: true }),
      );
  return wrap(logger);
}

function wrap(logger: Pino): Logger {
  return {
    debug: (message, fields?: LogFields) => logger.debug(fields ?? {}, message),
    info: (message, fields?: LogFields) => logger.info(fields ?? {}, message),
    warn: (message, fields?: LogFields) => logger.warn(fields ?? {}, message),
    error: (message, fields?: LogFields) => logger.error(fields ?? {}, message),
    child: (fields) => wrap(logger.child(fields)),
  };
}
