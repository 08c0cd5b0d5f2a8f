/**
 * What the node tells a claim of its running jobs, for backfill (shared/queue/first-fit.ts): the cores and memory
 * each holds and when its time limit ends it, relative to now, so that the node's and the queue's clocks need not
 * agree.
 */
import type { RunningJob } from '../shared/queue/job-queue.js';
import type { RunRecord } from './run-record.js';

/**
 * `runs`: the node's unended runs; `nodeCpus`: all its CPUs (an exclusive job holds them all); `now`: wall-clock ms.
 * A run not started yet (no `startedAt`) ends a whole time limit from now; UNLIMITED answers null.
 */
export function runningJobs(runs: Pick<RunRecord, 'job' | 'startedAt'>[], nodeCpus: number, now: number): RunningJob[] {
  return runs.map(({ job, startedAt }) => ({
    cpus: job.exclusive ? nodeCpus : job.cpus,
    memoryMb: job.memory_mb,
    endsInMs:
      job.time_limit_seconds === null ? null : Math.max(0, (startedAt ?? now) + job.time_limit_seconds * 1000 - now),
  }));
}
