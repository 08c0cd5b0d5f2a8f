/**
 * The Web logger (shared/log/logger.ts): one JSON object a line through console.log, which Cloudflare's Workers Logs
 * index by field. Web-only, for the Worker bundle; the same fields, level names and redaction as pino-logger.ts.
 */
import { LOG_LEVELS, REDACTED, REDACTED_KEYS, type LogFields, type LogLevel, type Logger } from './logger.js';

const SECRET = new Set<string>(REDACTED_KEYS);

/** `write`: where a line goes; by default the console method of its level, which Workers Logs record as its level. */
export function jsonLinesLogger(
  level: LogLevel = 'info',
  bound: LogFields = {},
  write: (line: string, level: LogLevel) => void = (line, at) => console[at](line),
): Logger {
  const least = LOG_LEVELS.indexOf(level);
  const at =
    (name: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (LOG_LEVELS.indexOf(name) < least) return;
      const line = { level: name, time: new Date().toISOString(), ...bound, ...fields, msg: message };
      write(
        JSON.stringify(line, (key, value: unknown) => (SECRET.has(key.toLowerCase()) ? REDACTED : value)),
        name,
      );
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => jsonLinesLogger(level, { ...bound, ...fields }, write),
  };
}
