import type { JobRef } from '../../shared/queue/job-queue.js';
import type { JobSummaryRow } from './job-summary.js';

/** The queue's ref of a job: what first fit needs, never the script. */
export function jobRef(
  job: Pick<
    JobSummaryRow,
    'id' | 'partition' | 'cpus' | 'memoryMb' | 'priority' | 'exclusive' | 'user' | 'timeLimitSeconds'
  >,
): JobRef {
  return {
    id: job.id,
    partition: job.partition,
    cpus: job.cpus,
    memoryMb: job.memoryMb,
    priority: job.priority,
    exclusive: job.exclusive,
    user: job.user,
    timeLimitSeconds: job.timeLimitSeconds,
  };
}
