import type { Database } from '../../shared/db/database.js';
import { errorFields } from '../../shared/log/logger.js';
import { toJobSpec, type JobSpec, type SubmitReading, type SubmitRequest } from '../../shared/job/submit-request.js';
import type { Services } from '../app-env.js';
import { actorName, type Principal } from '../auth/principal.js';
import { Forbidden, ValidationFailed, type FieldError } from '../http/errors.js';
import { priorityRefusals } from '../priority/priority-request.js';
import { jobOwner } from './job-owner.js';
import { markTasksNotEnqueued, queuedTaskRefs } from './array-refs.js';
import { jobRef } from './job-ref.js';
import type { JobSummaryRow } from './job-summary.js';
import { markNotEnqueued } from './mark-not-enqueued.js';
import { insertSubmittedJob } from './dependencies/insert-dependent-job.js';
import { pushOwedRefs } from './push-not-enqueued.js';
import { isOutOfQueue } from './out-of-queue.js';

/** The account an admin's job is charged to when the body names none. */
export const DEFAULT_ACCOUNT = 'default';

/**
 * Submits a validated body for a principal (a user token submits to its own account only, as its own user:
 * job-owner.ts), read as its path reads
 * it (`reading`: Slurm's time limits by default). On the Postgres queue
 * the job and its ref are one statement. Otherwise the job is committed, then its ref pushed to the queue; a failed
 * push loses nothing: the job stays PENDING, marked not enqueued, and the reconciler pushes it again. Throws
 * AccountLimitReached (429) over one of its account's submit-time limits (api/accounts/submit-limits.ts).
 */
export async function submitJob(
  db: Database,
  services: Pick<Services, 'queue' | 'onWork' | 'capacities' | 'partitions' | 'faults' | 'priority' | 'logger'>,
  principal: Principal,
  body: SubmitRequest,
  reading?: SubmitReading,
): Promise<JobSummaryRow> {
  const spec = await admissibleSpec(db, services, principal, body, reading);
  const job = await insertSubmittedJob(
    db,
    spec,
    actorName(principal),
    { withRef: services.queue.storesRefsWithJobs, priority: services.priority },
    viewerAccount(principal),
  ).catch(namingDirectives(reading));
  return afterCommit(db, services, job);
}

/**
 * The job a principal's body describes, once it may be submitted: throws Forbidden (403) for another account than a
 * user token's own, ValidationFailed (422) for a job its partition refuses (partition-admission.ts), a priority it may
 * not ask for (priority-request.ts: a user's priority above 0, a user's negative nice) or no node could ever run.
 */
export async function admissibleSpec(
  db: Database,
  { capacities, partitions }: Pick<Services, 'capacities' | 'partitions'>,
  principal: Principal,
  body: SubmitRequest,
  reading?: SubmitReading,
): Promise<JobSpec> {
  const ownAccount = principal.kind === 'user' ? principal.account : DEFAULT_ACCOUNT;
  if (principal.kind === 'user' && body.job.account !== undefined && body.job.account !== ownAccount) {
    throw new Forbidden(`job.account${setBy(reading, 'account')}: this token submits to account "${ownAccount}" only`);
  }
  const requested = toJobSpec(body, ownAccount, jobOwner(principal, body.job.user), reading);
  const priorityRefused = priorityRefusals(principal, requested);
  if (priorityRefused.length > 0) throw refused(priorityRefused, reading);
  const admission = await partitions.admit(db, body.job, requested);
  if ('refusal' in admission) throw refused(admission.refusal, reading);
  const { spec } = admission;
  // A job no node could ever run would wait forever: refused now, naming what to change.
  const refusal = await capacities.refusal(db, spec);
  if (refusal) throw refused(refusal, reading);
  return spec;
}

/** A refusal whose messages name the script's directives that set the refused fields. */
function refused(errors: FieldError[], reading: SubmitReading | undefined): ValidationFailed {
  return new ValidationFailed(
    errors.map((error) => ({
      ...error,
      message: `${error.message}${setBy(reading, ...(REFUSED_FIELDS[error.field] ?? []))}`,
    })),
  );
}

/** Rethrows a refusal (a dependency's unknown parent: insert-dependent-job.ts) naming the directives that set it. */
export function namingDirectives(reading: SubmitReading | undefined): (error: unknown) => never {
  return (error) => {
    if (error instanceof ValidationFailed && error.errors) throw refused(error.errors, reading);
    throw error;
  };
}

/** The body fields a refusal's field stands for (partition-admission.ts, partition-capacity.ts, priority-request.ts). */
const REFUSED_FIELDS: Record<string, string[]> = {
  'job.priority': ['priority'],
  'job.nice': ['nice'],
  'job.partition': ['partition'],
  'job.account': ['account'],
  'job.time_limit': ['time_limit'],
  'job.dependency': ['dependency'],
  'job.cpus_per_task': ['ntasks_per_node', 'cpus_per_task'],
  'job.memory_per_node': ['memory_per_node'],
  job: ['ntasks_per_node', 'cpus_per_task', 'memory_per_node'],
};

/** " (set by the script's line 2: -c 64)" when directives gave these fields their values; else nothing. */
function setBy(reading: SubmitReading | undefined, ...fields: string[]): string {
  const directives = fields.flatMap((field) => reading?.setBy?.[field] ?? []);
  if (directives.length === 0) return '';
  return ` (set by the script's ${directives.map(({ line, option }) => `line ${line}: ${option}`).join(', ')})`;
}

/** The account whose jobs a principal sees: a user token's own; undefined for an admin (every account). */
export function viewerAccount(principal: Principal): string | undefined {
  return principal.kind === 'user' ? principal.account : undefined;
}

/**
 * What follows a committed insert: on the Postgres queue the ref committed with the job, so only the wake-up; else
 * the push of its ref. A failed push loses nothing: the job stays PENDING, marked not enqueued (answered
 * `enqueued: false`), and the reconciler pushes it again. A job that starts in a wait (a dependency) gets no ref;
 * one its dependency released before the commit is pushed as released jobs are (pushOwedRefs).
 */
export async function afterCommit(
  db: Database,
  services: Pick<Services, 'queue' | 'onWork' | 'faults' | 'logger'>,
  job: JobSummaryRow,
): Promise<JobSummaryRow> {
  const { queue, onWork, faults, logger } = services;
  await faults('submit.committed');
  if (job.state !== 'PENDING' || isOutOfQueue(job.reason)) return job;
  if (!job.enqueued) {
    await pushOwedRefs(db, services);
    return job;
  }
  if (queue.storesRefsWithJobs) {
    onWork(job.partition);
    return job;
  }
  // A job array's tasks are pushed in one batch (array-refs.ts).
  const array = job.arrayJobId;
  try {
    await queue.enqueue(array === null ? [jobRef(job)] : await queuedTaskRefs(db, array));
  } catch (error) {
    logger.warn('push to the queue failed, the reconciler will retry', { job_id: job.id, ...errorFields(error) });
    await (array === null ? markNotEnqueued(db, job.id, logger) : markTasksNotEnqueued(db, array, logger));
    return { ...job, enqueued: false };
  }
  onWork(job.partition);
  return job;
}
