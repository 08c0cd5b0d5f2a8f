/**
 * A PENDING job's priority factors as `sprio -l` shows them (sprio(1)): each factor times its weight, and the nice
 * subtracted, as of now (priority-formula.ts); the stored priority is the recompute's, so its age may lag by up to an
 * interval. One small query: the cluster's CPUs and top tier, the partition's tier and the account's fair-share factor.
 */
import { sql } from 'drizzle-orm';
import type { PrioritySettings } from '../../shared/config/priority-settings.js';
import type { Database } from '../../shared/db/database.js';
import { queryRows } from '../../shared/db/query-rows.js';
import type { JobRow } from '../../shared/db/schema.js';
import { formulaParameters, weightedFactors } from './priority-formula.js';
import { clusterCpus, fairShareOf, maxTier, tierOf } from './priority-inputs.js';

export interface PriorityFactors {
  /** Weighted, as sprio's AGE, FAIRSHARE, JOBSIZE, PARTITION columns (not rounded: their sum rounds to the priority). */
  age: number;
  fair_share: number;
  job_size: number;
  partition: number;
  /** Subtracted from their sum (sprio's NICE). */
  nice: number;
  /** An admin set the priority: the job keeps it, whatever these factors say. */
  admin_set: boolean;
}

/** The factors of `job` as of `now`; null for a job that is not PENDING (sprio shows pending jobs only). */
export async function priorityFactors(
  db: Database,
  job: Pick<JobRow, 'state' | 'account' | 'partition' | 'cpus' | 'nice' | 'eligibleTime' | 'adminPriority'>,
  settings: PrioritySettings,
  now: Date,
): Promise<PriorityFactors | null> {
  if (job.state !== 'PENDING') return null;
  const f = weightedFactors(formulaParameters(settings.weights, settings.maxAgeMs), {
    ageSeconds: sql`${(now.getTime() - job.eligibleTime.getTime()) / 1000}::float8`,
    fairShare: fairShareOf(job.account),
    cpus: sql`${job.cpus}::int`,
    clusterCpus,
    tier: tierOf(job.partition),
    maxTier,
    nice: sql`${job.nice}::int`,
  });
  const [row] = await queryRows(
    db,
    sql`SELECT ${f.age} AS age, ${f.fairShare} AS fair_share, ${f.jobSize} AS job_size, ${f.partition} AS partition`,
  );
  const value = (name: string) => Math.round(Number(row?.[name] ?? 0) * 100) / 100;
  return {
    age: value('age'),
    fair_share: value('fair_share'),
    job_size: value('job_size'),
    partition: value('partition'),
    nice: job.nice,
    admin_set: job.adminPriority !== null,
  };
}
