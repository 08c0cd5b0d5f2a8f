/**
 * The service's own log lines (not a job's output): one JSON object a line, with the fields below under the same
 * names on every host, so a line of the Worker, the Node host and a daemon is searched the same way.
 * Two implementations: pino on Node (pino-logger.ts, imported only by Node entry points) and JSON through console.log
 * on the Worker (json-lines-logger.ts: Cloudflare's Workers Logs index a logged JSON object's fields).
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Bound to a child logger or given with one line. Never a token, a secret, a job's script or its environment. */
export interface LogFields {
  request_id?: string;
  job_id?: number | string;
  node?: string;
  attempt?: number;
  route?: string;
  [field: string]: unknown;
}

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose every line carries `fields` too. */
  child(fields: LogFields): Logger;
}

/**
 * Field names whose values are never written, whatever nests them (headers, a request body, an error's details):
 * credentials, and what a job's owner may keep secret in what it submits.
 */
export const REDACTED_KEYS = [
  'authorization',
  'token',
  'secret',
  'password',
  'script',
  'environment',
  'node_token',
  'admin_token',
] as const;

export const REDACTED = '[Redacted]';

/** Writes nothing: for code paths and tests that are given no logger. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

/** An error as log fields: its message, and its name when it is a typed one (never its stack: it may quote data). */
export function errorFields(error: unknown): LogFields {
  if (!(error instanceof Error)) return { error: String(error) };
  return { error: error.message, ...(error.name !== 'Error' && { error_name: error.name }) };
}
