/**
 * The job fields of sbatch flags given on the command line. Each flag is read by the very reader that reads a
 * script's `#SBATCH` lines on the API (shared/job/directive-options.ts), so a flag means, and is checked, exactly as
 * the same directive would be: the flags are written as directive lines (one per flag, every character of a value
 * escaped) and read. The fields found go in the submit's body, where they win over the script's directives, as
 * sbatch's command line wins over its script.
 */
import type { SubmitRequest } from '../sdk/index.js';
import { DirectivesRefused } from '../shared/job/directive-error.js';
import { readDirectives } from '../shared/job/directive-options.js';
import { UsageError } from './cli-error.js';
import type { ArgvOption } from './submit-argv.js';

export type JobFields = SubmitRequest['job'];

/** The fields the flags set; throws UsageError naming the flag as written, with the directive reader's reason. */
export function jobFieldsOf(flags: readonly ArgvOption[]): JobFields {
  if (flags.length === 0) return {};
  for (const flag of flags) {
    if (flag.value?.includes('\n')) throw new UsageError(`${flag.raw}: a value cannot hold a line break`);
  }
  const lines = flags.map(
    ({ option, value }) => `#SBATCH --${option.long}${value === null ? '' : `=${escape(value)}`}`,
  );
  try {
    return readDirectives({ job: {}, script: `${lines.join('\n')}\n` }).request.job;
  } catch (error) {
    if (!(error instanceof DirectivesRefused)) throw error;
    // Line N is the N-th flag.
    throw new UsageError(
      error.problems
        .map((problem) => `${flags[problem.line - 1]?.raw ?? problem.option}: ${problem.message}`)
        .join('; '),
    );
  }
}

/** A backslash before every character but letters and digits: each is then taken literally (directive-words.ts). */
function escape(value: string): string {
  return value.replace(/[^A-Za-z0-9]/g, (char) => `\\${char}`);
}
