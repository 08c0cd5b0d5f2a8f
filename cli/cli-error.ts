/**
 * What went wrong, as one line and an exit code (exit-codes.ts): the one place errors become output. The API's
 * refusals name the fields it refused (ConductorApiError.errors); anything that never got an answer is "unreachable".
 */
import { ConductorApiError } from '../sdk/index.js';
import { EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE } from './exit-codes.js';

/** A command line the command cannot run: exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The one line to print and the code to exit with. */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof UsageError) return { message: error.message, exitCode: EXIT_USAGE };
  if (error instanceof ConductorApiError) {
    if (error.retryable && error.status !== 429) {
      return { message: `the API is unreachable (HTTP ${error.status}): ${error.message}`, exitCode: EXIT_UNREACHABLE };
    }
    return { message: `refused (${error.status} ${error.code}): ${error.message}`, exitCode: EXIT_REFUSED };
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  if (error instanceof TypeError && error.message === 'fetch failed') {
    return { message: `the API is unreachable: ${cause?.message ?? error.message}`, exitCode: EXIT_UNREACHABLE };
  }
  throw error;
}
