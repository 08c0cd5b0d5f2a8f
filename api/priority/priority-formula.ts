/**
 * A job's priority, as Slurm's priority/multifactor plugin computes it (https://slurm.schedmd.com/priority_multifactor.html):
 *
 *   priority = round(w_age·age + w_fairshare·fair_share + w_jobsize·job_size + w_partition·partition) − nice
 *
 * each factor from 0 to 1: age = min(1, time pending / PriorityMaxAge); fair_share = the account's factor as of the
 * last recompute (fairshare-factors.ts; 1 for an account never charged); job_size = the job's CPUs / the CPUs of the
 * nodes not DOWN (PriorityFavorSmall=NO); partition = its partition's PriorityTier / the highest tier. Written once, as
 * SQL, so that the submit's insert, the recompute and `GET /v1/jobs/{id}` compute the same numbers.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { PriorityWeights } from '../../shared/config/priority-settings.js';

/** What the factors are read from: SQL expressions, of the job's row or of the cluster (priority-inputs.ts). */
export interface FactorInputs {
  /** Seconds the job has been eligible (0 at submit). */
  ageSeconds: SQL;
  /** Its account's fair-share factor, 0 to 1; NULL: never charged (1). */
  fairShare: SQL;
  cpus: SQL;
  clusterCpus: SQL;
  /** Its partition's priority tier; NULL: no such partition (0). */
  tier: SQL;
  maxTier: SQL;
  nice: SQL;
}

/** The weights and PriorityMaxAge as SQL values: numbers (bound as parameters) or a prepared statement's placeholders. */
export type FormulaParameters = { [K in keyof PriorityWeights]: unknown } & { maxAgeSeconds: unknown };

/** Each factor times its weight (double precision), as `sprio -l` shows them. */
export function weightedFactors(
  w: FormulaParameters,
  i: FactorInputs,
): { age: SQL; fairShare: SQL; jobSize: SQL; partition: SQL } {
  return {
    age: sql`(${w.age}::float8 * least(1, greatest(0, ${i.ageSeconds})::float8 / ${w.maxAgeSeconds}::float8))`,
    fairShare: sql`(${w.fairShare}::float8 * coalesce(${i.fairShare}, 1))`,
    jobSize: sql`(${w.jobSize}::float8 * coalesce(least(1, ${i.cpus}::float8 / nullif(${i.clusterCpus}, 0)), 0))`,
    partition: sql`(${w.partition}::float8 * coalesce(${i.tier}::float8 / nullif(${i.maxTier}, 0), 0))`,
  };
}

/** The priority (integer): the weighted factors' sum, rounded, less nice. */
export function priorityExpression(w: FormulaParameters, i: FactorInputs): SQL<number> {
  const f = weightedFactors(w, i);
  return sql<number>`(round(${f.age} + ${f.fairShare} + ${f.jobSize} + ${f.partition})::int - ${i.nice})`;
}

/** The parameters of `settings`, bound as values. */
export function formulaParameters(weights: PriorityWeights, maxAgeMs: number): FormulaParameters {
  return { ...weights, maxAgeSeconds: maxAgeMs / 1000 };
}
