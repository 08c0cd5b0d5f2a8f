/**
 * Tells a service that is away, or a write that lost a race it can win on retry, from any other failure, so that
 * clients get a 503 (retry later) instead of a 500 (a bug). Drivers say it differently: socket error codes, SQLSTATE
 * classes 08 (connection) and 57P (operator intervention: a restart), 40001/40P01 (serialization failure, deadlock),
 * a closed client; drizzle wraps each in its own error, hence the walk down `cause`. The log store says it with its
 * own error type. Each spelling below was seen for real, with the service taken away under the host's own driver
 * (test/host-errors.test.ts).
 */
import { LogStoreUnavailable as StoreFault } from '../../shared/logs/log-store.js';
import { ApiError, DatabaseUnavailable, LogStoreUnavailable, QueueUnavailable, RetryableConflict } from './errors.js';

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
const DATABASE_GONE = [
  // pg, and Neon's serverless driver (pg over a WebSocket) when Postgres behind Neon's proxy goes away.
  /connection terminated/i,
  /PGlite is closed/i,
  /Connection closed/i,
  /timeout exceeded when trying to connect/i,
];
// ioredis, once it has given up on a command while Redis is away.
const REDIS_GONE = [/Connection is closed/i, /Reached the max retries per request limit/i, /Stream isn't writeable/i];
/**
 * workerd's fetch with no connection to its peer: `Error: Network connection lost.` (with `retryable: true`). In
 * the Worker, fetch is the queue's transport: @upstash/redis retries a failed fetch 5 times, then throws its error
 * as it is. The log store, the Worker's other fetch user, wraps its failures in its own type (checked first).
 */
const FETCH_LOST = /^Network connection lost\.?$/i;

/** The 503 to answer with, or undefined for a fault that is a bug. */
export function serviceFault(error: unknown): ApiError | undefined {
  for (let current = error, depth = 0; depth < 5; current = (current as Error).cause, depth++) {
    // Neon's driver with its WebSocket proxy unreachable throws the socket's `error` event itself, not an Error: in
    // workerd an ErrorEvent { type: 'error', message: 'Uncaught Error: Network connection lost.' }, under drizzle's
    // DrizzleQueryError. Only the database is reached over a WebSocket.
    if (typeof Event !== 'undefined' && current instanceof Event && current.type === 'error') {
      return new DatabaseUnavailable();
    }
    if (!(current instanceof Error)) return undefined;
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
    if (FETCH_LOST.test(current.message)) return new QueueUnavailable();
  }
  return undefined;
}
