/**
 * Puts a job in a state the way the API would get it there: along the state table's shortest path from the state
 * it is in, each step through the transition function (the database refuses any other way). A test that needs a job
 * RUNNING, FAILED or TIMEOUT uses this, then `values` for the other columns it wants.
 */
import { eq } from 'drizzle-orm';
import { transitionJobs } from '../../api/jobs/transition-jobs.js';
import type { Database } from '../../shared/db/database.js';
import { jobs, type JobRow } from '../../shared/db/schema.js';
import { isTransitionAllowed, JOB_STATES, type JobState } from '../../shared/job/job-state.js';

export async function moveJob(
  db: Database,
  id: number | string,
  state: JobState,
  values: Partial<Omit<JobRow, 'id' | 'state'>> = {},
): Promise<void> {
  const jobId = Number(id);
  const [row] = await db.select({ state: jobs.state }).from(jobs).where(eq(jobs.id, jobId));
  if (!row) throw new Error(`moveJob: no job ${jobId}`);
  for (const step of pathBetween(row.state, state)) {
    const [result] = await transitionJobs(db, {
      jobs: [{ id: jobId, to: step, reason: 'set by a test' }],
      actor: 'test',
    });
    if (!result?.applied) throw new Error(`moveJob: job ${jobId} did not move to ${step}`);
  }
  if (Object.keys(values).length) await db.update(jobs).set(values).where(eq(jobs.id, jobId));
}

/** The states to go through, in order, from one state to another (none when they are the same). */
function pathBetween(from: JobState, to: JobState): JobState[] {
  const previous = new Map<JobState, JobState>();
  const queue: JobState[] = [from];
  while (queue.length) {
    const state = queue.shift()!;
    if (state === to) break;
    for (const next of JOB_STATES) {
      if (!previous.has(next) && next !== from && isTransitionAllowed(state, next)) {
        previous.set(next, state);
        queue.push(next);
      }
    }
  }
  if (from !== to && !previous.has(to)) throw new Error(`moveJob: no way from ${from} to ${to} in the state table`);
  const path: JobState[] = [];
  for (let state = to; state !== from; state = previous.get(state)!) path.unshift(state);
  return path;
}
