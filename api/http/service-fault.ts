/**
 * Tells a service that is away, or a write that lost a race it can win on retry, from any other failure, so that
 * clients get a 503 (retry later) instead of a 500 (a bug). Drivers say it differently: socket error codes, SQLSTATE
 * classes 08 (connection) and 57P (operator intervention: a restart), 40001/40P01 (serialization failure, deadlock),
 * a closed client; drizzle wraps each in its own error, hence the walk down `cause`. The log store says it with its
 * own error type.
 */
import { LogStoreUnavailable as StoreFault } from '../../shared/logs/log-store.js';
import { ApiError, DatabaseUnavailable, LogStoreUnavailable, QueueUnavailable, RetryableConflict } from './errors.js';

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
const DATABASE_GONE = [
  /connection terminated/i,
  /PGlite is closed/i,
  /Connection closed/i,
  /timeout exceeded when trying to connect/i,
];
// ioredis, once it has given up on a command while Redis is away.
const REDIS_GONE = [/Connection is closed/i, /Reached the max retries per request limit/i, /Stream isn't writeable/i];

/** The 503 to answer with, or undefined for a fault that is a bug. */
export function serviceFault(error: unknown): ApiError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof StoreFault) return new LogStoreUnavailable();
    const code = (current as { code?: unknown }).code;
    if (code === '40001' || code === '40P01') return new RetryableConflict();
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) {
      return new DatabaseUnavailable();
    }
    if (DATABASE_GONE.some((pattern) => pattern.test(current.message))) return new DatabaseUnavailable();
    if (current.name === 'MaxRetriesPerRequestError' || REDIS_GONE.some((pattern) => pattern.test(current.message))) {
      return new QueueUnavailable();
    }
  }
  return undefined;
}
