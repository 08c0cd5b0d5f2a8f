/**
 * The command's exit codes, one place for all of them (README "Use it from the command line"):
 * - 0 it did what was asked; 1 the API refused (a 4xx/5xx answer); 2 the command line was wrong; 3 the API could not
 *   be reached (no answer at all, or a gateway saying it is away: 502-504).
 * - `submit --wait` and `--follow` exit with the job's own status instead, as `sbatch --wait` does: its exit status,
 *   128+N when a signal N ended it (as a shell shows it), and for the endings that are not the script's own doing:
 *   TIMEOUT 124 (GNU timeout's), CANCELLED 130 (a command interrupted), OUT_OF_MEMORY 137 (128+SIGKILL, the OOM
 *   killer's signal as a shell shows it), NODE_FAIL 69 (EX_UNAVAILABLE, sysexits.h).
 */
import type { components } from '../sdk/index.js';

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

export const EXIT_TIMEOUT = 124;
export const EXIT_CANCELLED = 130;
export const EXIT_OUT_OF_MEMORY = 137;
export const EXIT_NODE_FAIL = 69;

type Job = components['schemas']['Job'];

/** The exit code `--wait` ends with for a job that has ended. */
export function jobExitCode(job: Pick<Job, 'state' | 'exit_code'>): number {
  switch (job.state) {
    case 'TIMEOUT':
      return EXIT_TIMEOUT;
    case 'CANCELLED':
      return EXIT_CANCELLED;
    case 'OUT_OF_MEMORY':
      return EXIT_OUT_OF_MEMORY;
    case 'NODE_FAIL':
      return EXIT_NODE_FAIL;
    default: {
      const { status = null, signal = null } = job.exit_code ?? {};
      if (signal) return 128 + signal;
      if (status !== null) return status;
      // Ended without a status of its own (it never started: its launch failed).
      return job.state === 'COMPLETED' ? 0 : 1;
    }
  }
}
