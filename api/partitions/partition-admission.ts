/**
 * Whether a configured partition takes a job at submit, as Slurm's job_submit checks against slurm.conf(5)'s
 * partition settings: the partition must exist and accept jobs (State=DRAIN and INACTIVE refuse them; DOWN accepts
 * them, to start later), the account must be in its AllowAccounts, and the job within its MaxTime and per-job sizes.
 * A job that names no partition goes to the one marked Default=YES, and one without a time limit gets its partition's
 * DefaultTime. A pure decision over the partitions' rows: partition-catalog.ts feeds it.
 */
import { formatMemorySize } from '../../shared/job/memory-size.js';
import { DEFAULT_TIME_LIMIT, type JobSpec } from '../../shared/job/submit-request.js';
import { formatTimeLimit, parseTimeLimit } from '../../shared/job/time-limit.js';
import type { PartitionRow } from '../../shared/db/schema.js';
import type { FieldError } from '../http/errors.js';

/** What the submit body itself said (with its directives), before defaults: what the partition may fill in. */
export interface AskedFor {
  partition?: string | undefined;
  time_limit?: string | number | undefined;
}

/** What admission reads of a job: a submit's whole spec, or a waiting job's row as an update would change it. */
export type Admissible = Pick<JobSpec, 'partition' | 'account' | 'cpus' | 'memoryMb' | 'timeLimitSeconds'>;

export type Admission<S extends Admissible = JobSpec> = { spec: S } | { refusal: FieldError[] };

/** Partitions named in a refusal at most, so that a cluster with hundreds does not make an unreadable message. */
const NAMED_AT_MOST = 20;

/**
 * The job as its partition takes it (partition and time limit filled in), or why it refuses it, field by field.
 * `spec` is the body read with today's defaults (partition "default", time limit 1:00:00); `asked` says which of
 * those the body left out.
 */
export function admitToPartition<S extends Admissible>(
  rows: readonly PartitionRow[],
  asked: AskedFor,
  spec: S,
): Admission<S> {
  const named = asked.partition ?? rows.find((row) => row.isDefault)?.name;
  if (named === undefined) {
    return refuse('job.partition', `no partition is the default: name one (${known(rows)})`);
  }
  const partition = rows.find((row) => row.name === named);
  if (!partition) return refuse('job.partition', `partition "${named}" does not exist (${known(rows)})`);

  const where = `partition "${partition.name}"`;
  const timeLimitSeconds = asked.time_limit === undefined ? defaultTime(partition) : spec.timeLimitSeconds;
  const refusal: FieldError[] = [];
  // Slurm: "Required partition not available (inactive or drain)".
  if (partition.state === 'DRAIN' || partition.state === 'INACTIVE') {
    refusal.push({ field: 'job.partition', message: `${where} is ${partition.state}: it takes no new jobs` });
  }
  if (partition.allowAccounts !== null && !partition.allowAccounts.includes(spec.account)) {
    const allowed = partition.allowAccounts.length === 0 ? 'none' : partition.allowAccounts.join(', ');
    refusal.push({
      field: 'job.account',
      message: `account "${spec.account}" may not submit to ${where}: its allowed accounts are ${allowed}`,
    });
  }
  const max = partition.maxTimeSeconds;
  // UNLIMITED (null) is over any maximum.
  if (max !== null && (timeLimitSeconds === null || timeLimitSeconds > max)) {
    refusal.push({
      field: 'job.time_limit',
      message: `the time limit ${formatTimeLimit(timeLimitSeconds)} is over ${where}'s maximum, ${formatTimeLimit(max)}`,
    });
  }
  if (partition.maxCpusPerJob !== null && spec.cpus > partition.maxCpusPerJob) {
    refusal.push({
      field: 'job.cpus_per_task',
      message: `the job asks for ${spec.cpus} CPUs (ntasks_per_node × cpus_per_task); ${where} allows at most ${partition.maxCpusPerJob} per job`,
    });
  }
  if (partition.maxMemoryMbPerJob !== null && spec.memoryMb > partition.maxMemoryMbPerJob) {
    refusal.push({
      field: 'job.memory_per_node',
      message: `the job asks for ${formatMemorySize(spec.memoryMb)}; ${where} allows at most ${formatMemorySize(partition.maxMemoryMbPerJob)} per job`,
    });
  }
  if (refusal.length > 0) return { refusal };
  return { spec: { ...spec, partition: partition.name, timeLimitSeconds } };
}

const BUILT_IN_DEFAULT_SECONDS = parseTimeLimit(DEFAULT_TIME_LIMIT)!;

/**
 * A job's time limit when it gives none: the partition's DefaultTime; without one, today's 1:00:00, or the MaxTime
 * when that is shorter (Slurm uses MaxTime when DefaultTime is unset: a job that states no limit is never refused for
 * one it did not state).
 */
function defaultTime(partition: PartitionRow): number {
  if (partition.defaultTimeSeconds !== null) return partition.defaultTimeSeconds;
  return Math.min(BUILT_IN_DEFAULT_SECONDS, partition.maxTimeSeconds ?? BUILT_IN_DEFAULT_SECONDS);
}

function known(rows: readonly PartitionRow[]): string {
  if (rows.length === 0) return 'none is configured';
  const names = rows.slice(0, NAMED_AT_MOST).map((row) => row.name);
  return `the partitions are ${names.join(', ')}${rows.length > NAMED_AT_MOST ? ', …' : ''}`;
}

function refuse(field: string, message: string): { refusal: FieldError[] } {
  return { refusal: [{ field, message }] };
}
