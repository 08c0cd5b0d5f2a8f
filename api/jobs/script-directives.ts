/**
 * The /v1 submit's reading of its script's `#SBATCH` / `#CONDUCTOR` directives (issue 14, item 3): the body with
 * them applied, and the reading that keeps what they did (applied, ignored) on the job. The original paths never
 * read them, as the original did not.
 */
import { DirectivesRefused } from '../../shared/job/directive-error.js';
import { readDirectives } from '../../shared/job/directive-options.js';
import type { SubmitReading, SubmitRequest } from '../../shared/job/submit-request.js';
import { parseTimeLimit } from '../../shared/job/time-limit.js';
import { DirectivesInvalid } from '../http/errors.js';

/** Throws DirectivesInvalid (422 naming `script`, each problem with its line) for directives that cannot be honoured. */
export function withDirectives(body: SubmitRequest): { request: SubmitRequest; reading: SubmitReading } {
  try {
    const { request, directives, warnings, setBy } = readDirectives(body);
    return { request, reading: { timeLimit: parseTimeLimit, warnings, directives, setBy } };
  } catch (error) {
    if (error instanceof DirectivesRefused) throw new DirectivesInvalid(error.problems);
    throw error;
  }
}
