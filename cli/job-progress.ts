/**
 * Waiting for a job to end while showing where it is (state, node, time run): a spinner on a terminal (stderr, so
 * stdout stays the job's output or its id), otherwise one line per change of state. Polls the job every
 * POLL_MS: one small GET, well below what the API's rate limits care about.
 */
import { createSpinner } from 'nanospinner';
import type { ConductorClient, components } from '../sdk/index.js';
import { delay } from '../sdk/delay.js';
import { isTerminal } from '../shared/job/job-state.js';
import { answer } from './api-answer.js';
import { runSeconds, squeueTime } from '../shared/job/squeue-display.js';

type Job = components['schemas']['Job'];

const POLL_MS = 500;

function describe(job: Job): string {
  const where = job.state === 'PENDING' ? (job.reason ? ` (${job.reason})` : '') : job.node ? ` on ${job.node}` : '';
  return `job ${job.id} ${job.state}${where} ${squeueTime(runSeconds(job))}`;
}

/** The job once ended. `quiet`: no progress at all (`--parsable`, `--json`). */
export async function waitForEnd(client: ConductorClient, id: string, quiet: boolean): Promise<Job> {
  const spinner = !quiet && process.stderr.isTTY ? createSpinner('', { stream: process.stderr }).start() : undefined;
  let shown = '';
  try {
    return await poll();
  } finally {
    // An error mid-wait must not leave the spinner's timer holding the process open.
    if (spinner?.isSpinning()) spinner.stop();
  }

  async function poll(): Promise<Job> {
    for (;;) {
      const job = await answer(client.GET('/v1/jobs/{id}', { params: { path: { id } } }));
      const line = describe(job);
      if (spinner) spinner.update({ text: line });
      else if (!quiet && job.state !== shown) process.stderr.write(`${line}\n`);
      shown = job.state;
      if (isTerminal(job.state)) {
        if (spinner) {
          if (job.state === 'COMPLETED') spinner.success({ text: line });
          else spinner.error({ text: line });
        }
        return job;
      }
      await delay(POLL_MS);
    }
  }
}
