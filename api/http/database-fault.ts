/**
 * Tells a database that cannot be reached from any other failure, so that clients get a 503 (retry later) instead of
 * a 500 (a bug). Drivers say it differently: socket error codes, SQLSTATE classes 08 (connection) and 57P (operator
 * intervention: a restart), or a closed client; drizzle wraps each in its own error, hence the walk down `cause`.
 */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
const UNREACHABLE_MESSAGES = [
  /connection terminated/i,
  /PGlite is closed/i,
  /Connection closed/i,
  /timeout exceeded when trying to connect/i,
];

export function isDatabaseUnreachable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || code.startsWith('08') || code.startsWith('57P')))
      return true;
    if (UNREACHABLE_MESSAGES.some((pattern) => pattern.test(current.message))) return true;
  }
  return false;
}
