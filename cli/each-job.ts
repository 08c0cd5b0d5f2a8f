/**
 * What `conductor cancel`, `hold` and `release` share: one API call per job, each outcome a line (or, with --json,
 * one array of them); a job the API refused is named on stderr and the others are still asked, then the exit code
 * is 1 (scancel and scontrol go on past a job they cannot act on, too).
 */
import { ConductorApiError } from '../sdk/index.js';
import { EXIT_REFUSED } from './exit-codes.js';
import { printJson } from './print-json.js';

/** The outcome of one job's call: its record in --json's array, and its line otherwise. */
export interface JobOutcome {
  record: Record<string, unknown>;
  line: string;
}

/** Calls `act` for each id in order; answers the exit code (0, or EXIT_REFUSED when the API refused any). */
export async function eachJob(ids: string[], json: boolean | undefined, act: (id: string) => Promise<JobOutcome>) {
  const results = [];
  let refused = false;
  for (const id of ids) {
    try {
      const outcome = await act(id);
      results.push({ id, ...outcome.record });
      if (!json) process.stdout.write(`job ${id}: ${outcome.line}\n`);
    } catch (error) {
      if (!(error instanceof ConductorApiError)) throw error;
      refused = true;
      results.push({ id, error: { status: error.status, code: error.code, message: error.message } });
      process.stderr.write(`conductor: job ${id}: refused (${error.status} ${error.code}): ${error.message}\n`);
    }
  }
  if (json) printJson(results);
  return refused ? EXIT_REFUSED : 0;
}
